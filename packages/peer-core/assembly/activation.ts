// Expert activations and their derivatives, evaluated in f64 and rounded once to f32 so that the plain-JS
// reference (which uses the same expressions with JS numbers and Math.fround) agrees to the last bit in
// almost every case (the two tanh implementations may differ by one f64 ulp).

/** sqrt(2 / pi), the constant of the GELU tanh approximation (Hendrycks & Gimpel 2016). */
const GELU_C: f64 = 0.7978845608028654;
const GELU_A: f64 = 0.044715;

/** act(a): code 0 = ReLU, 1 = GELU (tanh approximation). */
export function activate(a: f32, code: i32): f32 {
  if (code === 0) return a > 0 ? a : 0;
  const x = <f64>a;
  const t = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
  return <f32>(0.5 * x * (1.0 + t));
}

/** act'(a) of the last `activateWithGrad` call (one tanh serves both values). ReLU'(0) is 0. */
export let gradOut: f32 = 0;

/** Returns act(a) and leaves act'(a) in `gradOut`. */
export function activateWithGrad(a: f32, code: i32): f32 {
  if (code === 0) {
    gradOut = a > 0 ? 1 : 0;
    return a > 0 ? a : 0;
  }
  const x = <f64>a;
  const t = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
  gradOut = <f32>(0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * x * x));
  return <f32>(0.5 * x * (1.0 + t));
}
