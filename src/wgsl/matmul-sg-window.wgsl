// One uniform window of B^T for matmul_sg8_v4w (matmul-sg-wide.wgsl): WIN_LEN vec4s bound at
// WIN_BINDING. The host (src/kernels/matmul-windows.ts) instantiates this once per window with its
// k loop (matmul-sg-bloop.wgsl): a uniform array needs a fixed size, and WGSL cannot choose a
// binding at run time.

@group(0) @binding(WIN_BINDING) var<uniform> b_wWIN_ID: array<vec4f, WIN_LEN>;
