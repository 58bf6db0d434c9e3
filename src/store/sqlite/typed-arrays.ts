type TypedArray = Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array;

/** A copy of `array` with room for `length` elements (the rest zero): how the in-process indexes grow. */
export function grown<T extends TypedArray>(array: T, length: number): T {
  const copy = new (array.constructor as new (n: number) => T)(length);
  copy.set(array);
  return copy;
}
