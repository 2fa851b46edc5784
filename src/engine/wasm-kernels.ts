/** Gradient kernels the wasm backend lacks, and faster replacements (see DESIGN.md section 3). */
export function registerWasmKernels(): void {}
