;; Dropout masks for the ort sampler, four units at a time (WebAssembly SIMD).
;; Row r of `rows` gets `units` floats at out + 4*r*units: unit u keeps (value `keep`) when
;; lowbias32(bases[r] ^ u) >= threshold (unsigned), else 0 -- the same decision, bit for bit,
;; as fillDropoutMask in ../masks.ts, whose per-row base hash the caller puts in `bases`.
;; Compiled by scripts/build-mask-kernel.ts into dropout-masks.wasm.ts (base64).
(module
  (memory (export "memory") 1)
  (func (export "fill")
    (param $out i32) (param $bases i32) (param $rows i32) (param $units i32) (param $threshold i32) (param $keep f32)
    (local $r i32) (local $u i32) (local $p i32)
    (local $b v128) (local $x v128) (local $t v128) (local $k v128) (local $lanes v128)
    (local.set $t (i32x4.splat (local.get $threshold)))
    (local.set $k (f32x4.splat (local.get $keep)))
    (local.set $p (local.get $out))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $b (i32x4.splat (i32.load (i32.add (local.get $bases) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $lanes (v128.const i32x4 0 1 2 3))
        (local.set $u (i32.const 0))
        (block $units_done
          (loop $units_loop
            (br_if $units_done (i32.ge_u (local.get $u) (local.get $units)))
            (local.set $x (v128.xor (local.get $b) (local.get $lanes)))
            (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
            (local.set $x (i32x4.mul (local.get $x) (v128.const i32x4 0x7feb352d 0x7feb352d 0x7feb352d 0x7feb352d)))
            (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
            (local.set $x (i32x4.mul (local.get $x) (v128.const i32x4 0x846ca68b 0x846ca68b 0x846ca68b 0x846ca68b)))
            (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
            (v128.store (local.get $p) (v128.and (i32x4.ge_u (local.get $x) (local.get $t)) (local.get $k)))
            (local.set $lanes (i32x4.add (local.get $lanes) (v128.const i32x4 4 4 4 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $u (i32.add (local.get $u) (i32.const 4)))
            (br $units_loop)))
        ;; units not a multiple of 4: step back over the lanes past the row's end (the next row overwrites them)
        (local.set $p (i32.sub (local.get $p) (i32.shl (i32.sub (local.get $u) (local.get $units)) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop)))))
