// Node-API bindings of the native PEER kernels. Every typed-array argument is checked for its element type and
// minimum length here, so a wrong call from JS throws instead of reading or writing outside the array; ids are
// checked by the caller through firstOutOfRange before any gather.
#include <node_api.h>

#include <cstdint>
#include <string>

#include "elementwise.h"
#include "experts.h"
#include "gemm.h"
#include "layer-norm.h"

namespace {

/** Reads positional arguments; the first failure throws a JS error and makes ok() false. */
class Args {
 public:
  Args(napi_env env, napi_callback_info info) : env_(env) {
    napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr);
  }

  bool ok() const { return ok_; }

  int64_t integer(size_t i, const char* name) {
    if (!ok_) return 0;
    double value = 0;
    // Sizes and counts become C ints: bound them by 2^31 - 1 (tables are addressed with 64-bit offsets).
    if (i >= argc_ || napi_get_value_double(env_, argv_[i], &value) != napi_ok || !(value >= 0) ||
        value > 2147483647.0 || value != static_cast<double>(static_cast<int64_t>(value))) {
      fail(std::string(name) + " must be an integer in [0, 2^31)");
      return 0;
    }
    return static_cast<int64_t>(value);
  }

  /** A finite non-negative number (epsilons). */
  double positive(size_t i, const char* name) {
    if (!ok_) return 0;
    double value = 0;
    if (i >= argc_ || napi_get_value_double(env_, argv_[i], &value) != napi_ok || !(value >= 0) ||
        value > 1e30) {
      fail(std::string(name) + " must be a finite number >= 0");
      return 0;
    }
    return value;
  }

  bool boolean(size_t i, const char* name) {
    if (!ok_) return false;
    bool value = false;
    if (i >= argc_ || napi_get_value_bool(env_, argv_[i], &value) != napi_ok) fail(std::string(name) + " must be a boolean");
    return value;
  }

  template <typename T>
  T* array(size_t i, const char* name, napi_typedarray_type type, int64_t minLength, int64_t offset = 0) {
    if (!ok_) return nullptr;
    napi_typedarray_type actual;
    size_t length = 0;
    void* data = nullptr;
    napi_value buffer;
    size_t byteOffset = 0;
    bool isTyped = false;
    if (i >= argc_ || napi_is_typedarray(env_, argv_[i], &isTyped) != napi_ok || !isTyped ||
        napi_get_typedarray_info(env_, argv_[i], &actual, &length, &data, &buffer, &byteOffset) != napi_ok ||
        actual != type) {
      fail(std::string(name) + " must be a " + (type == napi_float32_array ? "Float32Array" : "Int32Array"));
      return nullptr;
    }
    if (static_cast<int64_t>(length) < offset + minLength) {
      fail(std::string(name) + " holds " + std::to_string(length) + " elements, needs at least " +
           std::to_string(offset + minLength));
      return nullptr;
    }
    // A zero-length array may have no backing store at all.
    return data == nullptr ? nullptr : static_cast<T*>(data) + offset;
  }

  float* f32(size_t i, const char* name, int64_t minLength, int64_t offset = 0) {
    return array<float>(i, name, napi_float32_array, minLength, offset);
  }
  int32_t* i32(size_t i, const char* name, int64_t minLength) {
    return array<int32_t>(i, name, napi_int32_array, minLength);
  }

 private:
  void fail(const std::string& message) {
    ok_ = false;
    napi_throw_range_error(env_, "PEER_NATIVE_ARGUMENT", message.c_str());
  }

  napi_env env_;
  size_t argc_ = 20;
  napi_value argv_[20];
  bool ok_ = true;
};

napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

/** gemm(m, n, k, a, transA, b, transB, c, accumulate, threads): c[m,n] (+)= op(a) op(b). */
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t m = args.integer(0, "m"), n = args.integer(1, "n"), k = args.integer(2, "k");
  const bool ta = args.boolean(4, "transA"), tb = args.boolean(6, "transB");
  const float* a = args.f32(3, "a", m * k);
  const float* b = args.f32(5, "b", k * n);
  float* c = args.f32(7, "c", m * n);
  const bool accumulate = args.boolean(8, "accumulate");
  const int64_t threads = args.integer(9, "threads");
  if (!args.ok()) return nullptr;
  const peer::MatrixView av{a, ta ? static_cast<int>(k) : static_cast<int>(m), ta ? static_cast<int>(m) : static_cast<int>(k), ta};
  const peer::MatrixView bv{b, tb ? static_cast<int>(n) : static_cast<int>(k), tb ? static_cast<int>(k) : static_cast<int>(n), tb};
  peer::gemm(static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), av, bv, c, accumulate, static_cast<int>(threads));
  return nullptr;
}

/** expertsForward(x, ids, gates, u, uOffset, v, vOffset, out, preact, tokens, d, slots, activation, numExperts, threads). */
napi_value ExpertsForward(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t tokens = args.integer(9, "tokens"), d = args.integer(10, "d"), slots = args.integer(11, "slots");
  const int64_t activation = args.integer(12, "activation"), experts = args.integer(13, "numExperts");
  const int64_t threads = args.integer(14, "threads");
  const int64_t pairs = tokens * slots;
  const float* x = args.f32(0, "x", tokens * d);
  const int32_t* ids = args.i32(1, "ids", pairs);
  const float* gates = args.f32(2, "gates", pairs);
  const float* u = args.f32(3, "u", experts * d, args.integer(4, "uOffset"));
  const float* v = args.f32(5, "v", experts * d, args.integer(6, "vOffset"));
  float* out = args.f32(7, "out", tokens * d);
  float* preact = args.f32(8, "preact", pairs);
  if (!args.ok()) return nullptr;
  const int64_t bad = peer::firstOutOfRange(ids, pairs, experts);
  if (bad >= 0) return number(env, static_cast<double>(bad));
  peer::expertsForward({static_cast<int>(tokens), static_cast<int>(d), static_cast<int>(slots), static_cast<int>(activation)},
                       x, ids, gates, u, v, out, preact, experts, static_cast<int>(threads));
  return number(env, -1);
}

/** expertsBackward(dy, ids, gates, u, uOffset, v, vOffset, preact, dx, dgates, coefU, coefV, tokens, d, slots, activation, numExperts, threads). */
napi_value ExpertsBackward(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t tokens = args.integer(12, "tokens"), d = args.integer(13, "d"), slots = args.integer(14, "slots");
  const int64_t activation = args.integer(15, "activation"), experts = args.integer(16, "numExperts");
  const int64_t threads = args.integer(17, "threads");
  const int64_t pairs = tokens * slots;
  const float* dy = args.f32(0, "dy", tokens * d);
  const int32_t* ids = args.i32(1, "ids", pairs);
  const float* gates = args.f32(2, "gates", pairs);
  const float* u = args.f32(3, "u", experts * d, args.integer(4, "uOffset"));
  const float* v = args.f32(5, "v", experts * d, args.integer(6, "vOffset"));
  const float* preact = args.f32(7, "preact", pairs);
  float* dx = args.f32(8, "dx", tokens * d);
  float* dgates = args.f32(9, "dgates", pairs);
  float* coefU = args.f32(10, "coefU", pairs);
  float* coefV = args.f32(11, "coefV", pairs);
  if (!args.ok()) return nullptr;
  const int64_t bad = peer::firstOutOfRange(ids, pairs, experts);
  if (bad >= 0) return number(env, static_cast<double>(bad));
  peer::expertsBackward({static_cast<int>(tokens), static_cast<int>(d), static_cast<int>(slots), static_cast<int>(activation)},
                        dy, ids, gates, u, v, preact, dx, dgates, coefU, coefV, experts, static_cast<int>(threads));
  return number(env, -1);
}

/** scatterRank1(out, d, rowOf, coef, vecs, vecOf, count, numRows, numVecs): -1, or the first bad index (rowOf, then vecOf as count + i). */
napi_value ScatterRank1(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t d = args.integer(1, "d"), count = args.integer(6, "count");
  const int64_t rows = args.integer(7, "numRows"), vecsCount = args.integer(8, "numVecs");
  float* out = args.f32(0, "out", rows * d);
  const int32_t* rowOf = args.i32(2, "rowOf", count);
  const float* coef = args.f32(3, "coef", count);
  const float* vecs = args.f32(4, "vecs", vecsCount * d);
  const int32_t* vecOf = args.i32(5, "vecOf", count);
  if (!args.ok()) return nullptr;
  const int64_t badRow = peer::firstOutOfRange(rowOf, count, rows);
  if (badRow >= 0) return number(env, static_cast<double>(badRow));
  const int64_t badVec = peer::firstOutOfRange(vecOf, count, vecsCount);
  if (badVec >= 0) return number(env, static_cast<double>(count + badVec));
  peer::scatterRank1(out, static_cast<int>(d), rowOf, coef, vecs, vecOf, static_cast<int>(count));
  return number(env, -1);
}

/** adamUpdate(params, grads, m, v, out, n, hyper): hyper = [lr, beta1, beta2, epsilon, 1/(1-beta1^t), 1/(1-beta2^t)]. */
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t n = args.integer(5, "n");
  const float* params = args.f32(0, "params", n);
  const float* grads = args.f32(1, "grads", n);
  float* m = args.f32(2, "m", n);
  float* v = args.f32(3, "v", n);
  float* out = args.f32(4, "out", n);
  const float* hyper = args.f32(6, "hyper", 6);
  if (!args.ok()) return nullptr;
  const peer::AdamStep step{hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], hyper[5]};
  peer::adamUpdate(step, params, grads, m, v, out, n);
  return nullptr;
}

/** geluForward(x, out, t, n). */
napi_value GeluForward(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t n = args.integer(3, "n");
  const float* x = args.f32(0, "x", n);
  float* out = args.f32(1, "out", n);
  float* t = args.f32(2, "t", n);
  if (!args.ok()) return nullptr;
  peer::geluForward(x, out, t, n);
  return nullptr;
}

/** geluBackward(x, t, dy, dx, n). */
napi_value GeluBackward(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t n = args.integer(4, "n");
  const float* x = args.f32(0, "x", n);
  const float* t = args.f32(1, "t", n);
  const float* dy = args.f32(2, "dy", n);
  float* dx = args.f32(3, "dx", n);
  if (!args.ok()) return nullptr;
  peer::geluBackward(x, t, dy, dx, n);
  return nullptr;
}

/** layerNormForward(x, gamma, beta, out, xhat, rstd, rows, cols, eps). */
napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t rows = args.integer(6, "rows"), cols = args.integer(7, "cols");
  const double eps = args.positive(8, "eps");
  const float* x = args.f32(0, "x", rows * cols);
  const float* gamma = args.f32(1, "gamma", cols);
  const float* beta = args.f32(2, "beta", cols);
  float* out = args.f32(3, "out", rows * cols);
  float* xhat = args.f32(4, "xhat", rows * cols);
  float* rstd = args.f32(5, "rstd", rows);
  if (!args.ok()) return nullptr;
  peer::layerNormForward(x, gamma, beta, out, xhat, rstd, rows, cols, static_cast<float>(eps));
  return nullptr;
}

/** layerNormBackward(dy, xhat, rstd, gamma, dx, dgamma, dbeta, rows, cols). */
napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  Args args(env, info);
  const int64_t rows = args.integer(7, "rows"), cols = args.integer(8, "cols");
  const float* dy = args.f32(0, "dy", rows * cols);
  const float* xhat = args.f32(1, "xhat", rows * cols);
  const float* rstd = args.f32(2, "rstd", rows);
  const float* gamma = args.f32(3, "gamma", cols);
  float* dx = args.f32(4, "dx", rows * cols);
  float* dgamma = args.f32(5, "dgamma", cols);
  float* dbeta = args.f32(6, "dbeta", cols);
  if (!args.ok()) return nullptr;
  peer::layerNormBackward(dy, xhat, rstd, gamma, dx, dgamma, dbeta, rows, cols);
  return nullptr;
}

void define(napi_env env, napi_value exports, const char* name, napi_callback fn) {
  napi_value value;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &value);
  napi_set_named_property(env, exports, name, value);
}

} // namespace

NAPI_MODULE_INIT() {
  napi_value supported;
  // The kernels are compiled for AVX2 + FMA; elsewhere JS keeps the WebAssembly kernels.
  napi_get_boolean(env, peer::hasAvx2Fma(), &supported);
  napi_set_named_property(env, exports, "supported", supported);
  define(env, exports, "gemm", Gemm);
  define(env, exports, "expertsForward", ExpertsForward);
  define(env, exports, "expertsBackward", ExpertsBackward);
  define(env, exports, "scatterRank1", ScatterRank1);
  define(env, exports, "adamUpdate", AdamUpdate);
  define(env, exports, "geluForward", GeluForward);
  define(env, exports, "geluBackward", GeluBackward);
  define(env, exports, "layerNormForward", LayerNormForward);
  define(env, exports, "layerNormBackward", LayerNormBackward);
  return exports;
}
