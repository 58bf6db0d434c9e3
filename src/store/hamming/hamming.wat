;; Hamming distances between one binary query code and many item codes, with WASM SIMD, and the
;; two passes that pick the nearest eligible slots from them: a histogram of distances, then the
;; slots below the cut. Compiled by scripts/build-wasm.mjs.
;; Codes are `vecs` 128-bit blocks each (zero-padded), stored back to back from `codes`.
;; A slot is eligible when its u16 class bits in `classes` share a bit with both `masks` (a retired
;; slot's are 0) and, if `windowed`, its event time (an f64 in `times`) is within [from, to).
;; `masks` packs the two: the first in the low 16 bits, the second in the high.
(module
  (import "env" "memory" (memory 1))

  ;; Writes one u16 distance per code at `out`.
  (func (export "distances")
    (param $codes i32) (param $query i32) (param $count i32) (param $vecs i32) (param $out i32)
    (local $end i32) (local $v i32) (local $acc v128) (local $sum v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 1))))
    (block $done
      (loop $code
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $v (i32.const 0))
        ;; Byte counts (at most 8 a block) are widened to 16-bit lanes every block, so no lane
        ;; wraps at any dimension the config allows.
        (block $blocks_done
          (loop $block
            (br_if $blocks_done (i32.ge_u (local.get $v) (local.get $vecs)))
            (local.set $acc
              (i16x8.add (local.get $acc)
                (i16x8.extadd_pairwise_i8x16_u
                  (i8x16.popcnt
                    (v128.xor
                      (v128.load (i32.add (local.get $codes) (i32.shl (local.get $v) (i32.const 4))))
                      (v128.load (i32.add (local.get $query) (i32.shl (local.get $v) (i32.const 4)))))))))
            (local.set $v (i32.add (local.get $v) (i32.const 1)))
            (br $block)))
        (local.set $sum (i32x4.extadd_pairwise_i16x8_u (local.get $acc)))
        (i32.store16 (local.get $out)
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
            (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum)))))
        (local.set $codes (i32.add (local.get $codes) (i32.shl (local.get $vecs) (i32.const 4))))
        (local.set $out (i32.add (local.get $out) (i32.const 2)))
        (br $code))))

  (func $eligible
    (param $slot i32) (param $classes i32) (param $masks i32) (param $times i32) (param $windowed i32)
    (param $from f64) (param $to f64) (result i32)
    (local $bits i32) (local $time f64) (local $ok i32)
    (local.set $bits
      (i32.load16_u (i32.add (local.get $classes) (i32.shl (local.get $slot) (i32.const 1)))))
    (local.set $ok
      (i32.and
        (i32.ne (i32.and (local.get $bits) (i32.and (local.get $masks) (i32.const 0xffff))) (i32.const 0))
        (i32.ne (i32.and (local.get $bits) (i32.shr_u (local.get $masks) (i32.const 16))) (i32.const 0))))
    (if (i32.eqz (local.get $windowed)) (then (return (local.get $ok))))
    (local.set $time (f64.load (i32.add (local.get $times) (i32.shl (local.get $slot) (i32.const 3)))))
    (i32.and (local.get $ok)
      (i32.and (f64.ge (local.get $time) (local.get $from)) (f64.lt (local.get $time) (local.get $to)))))

  ;; Adds one to the u32 at `hist` + 4 × distance for each eligible slot of the first `count`;
  ;; returns how many were eligible. No branch on a slot's eligibility: each adds it (0 or 1), so
  ;; the class test is written out here rather than called.
  (func (export "histogram")
    (param $dist i32) (param $classes i32) (param $masks i32) (param $times i32) (param $count i32)
    (param $windowed i32) (param $from f64) (param $to f64) (param $hist i32) (result i32)
    (local $slot i32) (local $eligible i32) (local $at i32) (local $add i32) (local $bits i32)
    (local $time f64) (local $first i32) (local $second i32)
    (local.set $first (i32.and (local.get $masks) (i32.const 0xffff)))
    (local.set $second (i32.shr_u (local.get $masks) (i32.const 16)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $slot) (local.get $count)))
        (local.set $bits
          (i32.load16_u (i32.add (local.get $classes) (i32.shl (local.get $slot) (i32.const 1)))))
        (local.set $add
          (i32.and
            (i32.ne (i32.and (local.get $bits) (local.get $first)) (i32.const 0))
            (i32.ne (i32.and (local.get $bits) (local.get $second)) (i32.const 0))))
        (if (local.get $windowed)
          (then
            (local.set $time
              (f64.load (i32.add (local.get $times) (i32.shl (local.get $slot) (i32.const 3)))))
            (local.set $add
              (i32.and (local.get $add)
                (i32.and (f64.ge (local.get $time) (local.get $from))
                  (f64.lt (local.get $time) (local.get $to)))))))
        (local.set $at
          (i32.add (local.get $hist)
            (i32.shl
              (i32.load16_u (i32.add (local.get $dist) (i32.shl (local.get $slot) (i32.const 1))))
              (i32.const 2))))
        (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (local.get $add)))
        (local.set $eligible (i32.add (local.get $eligible) (local.get $add)))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (br $next)))
    (local.get $eligible))

  ;; Writes, as u32s at `out` in slot order, the eligible slots nearer than `cut` and the first
  ;; `ties` at `cut`, up to `wanted` of them; returns how many it wrote.
  (func (export "select")
    (param $dist i32) (param $classes i32) (param $masks i32) (param $times i32) (param $count i32)
    (param $windowed i32) (param $from f64) (param $to f64)
    (param $cut i32) (param $ties i32) (param $wanted i32) (param $out i32) (result i32)
    (local $slot i32) (local $found i32) (local $d i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $slot) (local.get $count)))
        (br_if $done (i32.ge_u (local.get $found) (local.get $wanted)))
        (local.set $d
          (i32.load16_u (i32.add (local.get $dist) (i32.shl (local.get $slot) (i32.const 1)))))
        (if (i32.le_u (local.get $d) (local.get $cut))
          (then
            (if (call $eligible (local.get $slot) (local.get $classes) (local.get $masks) (local.get $times)
                  (local.get $windowed) (local.get $from) (local.get $to))
              (then
                (if (i32.or (i32.lt_u (local.get $d) (local.get $cut)) (i32.gt_s (local.get $ties) (i32.const 0)))
                  (then
                    (if (i32.eq (local.get $d) (local.get $cut))
                      (then (local.set $ties (i32.sub (local.get $ties) (i32.const 1)))))
                    (i32.store (i32.add (local.get $out) (i32.shl (local.get $found) (i32.const 2)))
                      (local.get $slot))
                    (local.set $found (i32.add (local.get $found) (i32.const 1)))))))))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (br $next)))
    (local.get $found)))
