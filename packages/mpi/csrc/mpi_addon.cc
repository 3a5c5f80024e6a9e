// Node-API binding of the few Open MPI calls data-parallel training needs: init, barrier,
// broadcast and sum all-reduce on a typed array's own memory (no copies), each collective on a
// libuv worker thread so the JavaScript thread keeps running. Ordering, timeouts and friendly
// argument checks live in the TypeScript layer (src/); this file only talks to MPI.
#include <mpi.h>
#include <napi.h>

#include <cstdint>
#include <string>

namespace {

std::string mpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error code " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length)) + " (MPI error code " + std::to_string(code) + ")";
}

bool isFinalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

bool isInitialized() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  return initialized != 0;
}

// The addon refuses every call outside init..finalize instead of letting MPI abort the process.
void requireActive(Napi::Env env, const char* op) {
  if (!isInitialized()) throw Napi::Error::New(env, std::string(op) + " before init");
  if (isFinalized()) throw Napi::Error::New(env, std::string(op) + " after finalize");
}

// A view's memory: data pointer, element count and MPI type. Broadcast moves bytes; the sum
// all-reduce needs the element type.
struct Span {
  void* data = nullptr;
  int64_t count = 0;
  MPI_Datatype type = MPI_BYTE;
  size_t elementBytes = 1;
};

Span viewSpan(Napi::Env env, Napi::Value value, bool asBytes) {
  Span span;
  size_t byteLength = 0;
  if (value.IsTypedArray()) {
    napi_typedarray_type kind;
    size_t length = 0;
    void* data = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, value, &kind, &length, &data, nullptr, nullptr), span);
    span.data = data;
    if (asBytes) {
      // byteLength from JavaScript covers every element type, including ones newer than this file.
      byteLength = static_cast<size_t>(value.As<Napi::Object>().Get("byteLength").As<Napi::Number>().Int64Value());
    } else {
      switch (kind) {
        case napi_float32_array: span.type = MPI_FLOAT; span.elementBytes = 4; break;
        case napi_float64_array: span.type = MPI_DOUBLE; span.elementBytes = 8; break;
        case napi_int32_array: span.type = MPI_INT32_T; span.elementBytes = 4; break;
        default: throw Napi::TypeError::New(env, "unsupported element type for a sum all-reduce");
      }
      span.count = static_cast<int64_t>(length);
      return span;
    }
  } else if (value.IsDataView()) {
    if (!asBytes) throw Napi::TypeError::New(env, "a DataView has no element type to sum");
    void* data = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_get_dataview_info(env, value, &byteLength, &data, nullptr, nullptr), span);
    span.data = data;
  } else {
    throw Napi::TypeError::New(env, "expected a TypedArray or DataView");
  }
  span.count = static_cast<int64_t>(byteLength);
  return span;
}

// Buffers go to MPI in slices of at most 16 MiB. MPI-3 counts are `int`, and above 32 MiB Open MPI's
// temporary buffer is freshly mmapped (page-faulted) on every call: unsliced, a 64 MiB all-reduce
// was ~5x slower per byte than 16 MiB ones (2 ranks, shared memory; see README's benchmark).
constexpr int64_t kSliceBytes = int64_t{16} << 20;

class CollectiveWorker : public Napi::AsyncWorker {
 public:
  enum class Op { Barrier, Broadcast, AllReduceSum };

  CollectiveWorker(Napi::Env env, Op op, Span span, int root, Napi::Value buffer)
      : Napi::AsyncWorker(env), op_(op), span_(span), root_(root), deferred_(Napi::Promise::Deferred::New(env)) {
    // Holding the view keeps its memory alive (and unmoved) until the collective ends.
    if (!buffer.IsUndefined()) buffer_ = Napi::Persistent(buffer.As<Napi::Object>());
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    if (op_ == Op::Barrier) {
      check(MPI_Barrier(MPI_COMM_WORLD));
      return;
    }
    if (!agree()) return;
    auto* bytes = static_cast<char*>(span_.data);
    const int64_t sliceElements = kSliceBytes / static_cast<int64_t>(span_.elementBytes);
    for (int64_t done = 0; done < span_.count; done += sliceElements) {
      const int64_t remaining = span_.count - done;
      const int slice = static_cast<int>(remaining < sliceElements ? remaining : sliceElements);
      void* at = bytes + done * static_cast<int64_t>(span_.elementBytes);
      const int code = op_ == Op::Broadcast
                           ? MPI_Bcast(at, slice, span_.type, root_, MPI_COMM_WORLD)
                           : MPI_Allreduce(MPI_IN_PLACE, at, slice, span_.type, MPI_SUM, MPI_COMM_WORLD);
      if (!check(code)) return;
    }
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  bool check(int code) {
    if (code == MPI_SUCCESS) return true;
    SetError(mpiErrorText(code));
    return false;
  }

  // Every rank learns the largest and smallest count (and root) before the real collective,
  // so a mismatch fails on all ranks together instead of corrupting memory or hanging.
  bool agree() {
    int64_t mine[4] = {span_.count, -span_.count, root_, -static_cast<int64_t>(root_)};
    int64_t most[4] = {0, 0, 0, 0};
    if (!check(MPI_Allreduce(mine, most, 4, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD))) return false;
    const int64_t largest = most[0];
    const int64_t smallest = -most[1];
    if (largest != smallest) {
      const std::string unit = op_ == Op::Broadcast ? " bytes" : " elements";
      SetError("length mismatch: ranks passed different lengths (smallest " + std::to_string(smallest) + unit +
               ", largest " + std::to_string(largest) + unit + ", this rank " + std::to_string(span_.count) + ")");
      return false;
    }
    if (op_ == Op::Broadcast && most[2] != -most[3]) {
      SetError("root mismatch: ranks passed different roots (smallest " + std::to_string(-most[3]) +
               ", largest " + std::to_string(most[2]) + ", this rank " + std::to_string(root_) + ")");
      return false;
    }
    return true;
  }

  Op op_;
  Span span_;
  int root_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference buffer_;
};

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (isFinalized()) throw Napi::Error::New(env, "init after finalize: MPI cannot be initialised twice in one process");
  int provided = 0;
  if (!isInitialized()) {
    int argc = 0;
    char** argv = nullptr;
    const int code = MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    if (code != MPI_SUCCESS) throw Napi::Error::New(env, "MPI_Init_thread failed: " + mpiErrorText(code));
  } else {
    MPI_Query_thread(&provided);
  }
  // Errors come back as codes (turned into exceptions) instead of aborting the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", rank);
  out.Set("size", size);
  out.Set("threadLevel", provided);
  out.Set("threadSerialized", static_cast<int>(MPI_THREAD_SERIALIZED));
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int versionLength = 0;
  MPI_Get_library_version(version, &versionLength);
  out.Set("library", std::string(version));  // the reported length counts the terminating NUL
  return out;
}

Napi::Value Collective(const Napi::CallbackInfo& info, CollectiveWorker::Op op, const char* name) {
  Napi::Env env = info.Env();
  requireActive(env, name);
  Span span;
  int root = 0;
  Napi::Value buffer = env.Undefined();
  if (op != CollectiveWorker::Op::Barrier) {
    buffer = info[0];
    span = viewSpan(env, buffer, op == CollectiveWorker::Op::Broadcast);
  }
  if (op == CollectiveWorker::Op::Broadcast) root = info[1].As<Napi::Number>().Int32Value();
  auto* worker = new CollectiveWorker(env, op, span, root, buffer);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  return Collective(info, CollectiveWorker::Op::Barrier, "barrier");
}
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  return Collective(info, CollectiveWorker::Op::Broadcast, "broadcast");
}
Napi::Value AllReduceSum(const Napi::CallbackInfo& info) {
  return Collective(info, CollectiveWorker::Op::AllReduceSum, "allReduceSum");
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireActive(env, "finalize");
  const int code = MPI_Finalize();
  if (code != MPI_SUCCESS) throw Napi::Error::New(env, "MPI_Finalize failed: " + mpiErrorText(code));
  return env.Undefined();
}

// Called from the JavaScript thread when a collective overran its timeout: MPI collectives
// cannot be cancelled, so the whole job ends (mpirun then stops every rank).
Napi::Value Abort(const Napi::CallbackInfo& info) {
  const int exitCode = info[0].As<Napi::Number>().Int32Value();
  if (isInitialized() && !isFinalized()) MPI_Abort(MPI_COMM_WORLD, exitCode);
  return info.Env().Undefined();
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("allReduceSum", Napi::Function::New(env, AllReduceSum));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  exports.Set("abort", Napi::Function::New(env, Abort));
  return exports;
}

}  // namespace

NODE_API_MODULE(vla_mpi, Module)
