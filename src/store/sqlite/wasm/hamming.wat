;; Hamming distances between one binary query code and many item codes, with WASM SIMD.
;; Codes are `vecs` 128-bit blocks each (zero-padded), stored back to back from `codes`.
;; Writes one u16 distance per code at `out`. Compiled by scripts/build-wasm.mjs.
(module
  (import "env" "memory" (memory 1))
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
        (br $code)))))
