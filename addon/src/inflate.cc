// skiff_layer's module: the Inflater (below) and the Layer pipeline (layer.cc). Both need libisal,
// which only commands that unpack layers load (this addon is its own file for that).
//
// `new Inflater()` holds one gzip decompression state (gzip.h: ISA-L's igzip, ~1.7x node's zlib on
// layer blobs). `write(chunk, cb)` inflates the chunk on the libuv thread pool and calls back
// `cb(err, outputs)` with the output as Buffers (zero-copy); one write at a time per Inflater (the JS
// Transform around it guarantees that). `finish()` returns an Error when the input ended inside a
// gzip member.
#include <napi.h>
#include "gzip.h"
#include "layer.h"
#include "tar_extract.h"
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr size_t kOutBlock = 256 * 1024;

struct OutBlock {
  unsigned char *data;
  size_t size;
};

void FreeBlock(Napi::Env, unsigned char *data) { std::free(data); }

// GunzipInto's sink for JS: every block is malloc'd and handed over as a Buffer.
struct BlockList {
  std::vector<OutBlock> out;
  unsigned char *Block(size_t *cap) {
    *cap = kOutBlock;
    return static_cast<unsigned char *>(std::malloc(kOutBlock));
  }
  bool Put(unsigned char *b, size_t n) {
    if (n) out.push_back({b, n});
    else std::free(b);
    return true;
  }
};

class Inflater : public Napi::ObjectWrap<Inflater> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Inflater", {InstanceMethod("write", &Inflater::Write), InstanceMethod("finish", &Inflater::Finish)});
  }
  explicit Inflater(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Inflater>(info), state_(new skiff::GzipState()) {}
  skiff::GzipState &state() { return *state_; }

 private:
  Napi::Value Write(const Napi::CallbackInfo &info);
  Napi::Value Finish(const Napi::CallbackInfo &info) {
    if (state_->Truncated()) return Napi::Error::New(info.Env(), "unexpected end of file").Value();
    return info.Env().Undefined();
  }
  std::unique_ptr<skiff::GzipState> state_;
};

class InflateWork : public Napi::AsyncWorker {
 public:
  InflateWork(Napi::Function cb, Inflater *inf, Napi::Object self, Napi::Buffer<unsigned char> input)
      : Napi::AsyncWorker(cb), inf_(inf), data_(input.Data()), size_(input.Length()) {
    self_ = Napi::Persistent(self);
    input_ = Napi::Persistent(input);
  }
  ~InflateWork() override {
    for (auto &b : out_.out) std::free(b.data);
  }
  void Execute() override {
    const char *e = skiff::GunzipInto(inf_->state(), data_, size_, out_);
    if (e) SetError(e);
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array arr = Napi::Array::New(env, out_.out.size());
    for (size_t i = 0; i < out_.out.size(); i++) {
      arr.Set(i, Napi::Buffer<unsigned char>::New(env, out_.out[i].data, out_.out[i].size, FreeBlock));
    }
    out_.out.clear();  // the buffers own the blocks now
    Callback().Call({env.Null(), arr});
  }

 private:
  Inflater *inf_;
  const unsigned char *data_;
  size_t size_;
  Napi::ObjectReference self_;
  Napi::Reference<Napi::Buffer<unsigned char>> input_;
  BlockList out_;
};

Napi::Value Inflater::Write(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "write(buffer, callback)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto *w = new InflateWork(info[1].As<Napi::Function>(), this, info.This().As<Napi::Object>(), info[0].As<Napi::Buffer<unsigned char>>());
  w->Queue();
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Inflater", Inflater::Define(env));
  exports.Set("Layer", skiff::DefineLayer(env));
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("maxPath", Napi::Number::New(env, static_cast<double>(skiff::kMaxPath)));
  limits.Set("maxName", Napi::Number::New(env, static_cast<double>(skiff::kMaxName)));
  limits.Set("maxDepth", Napi::Number::New(env, static_cast<double>(skiff::kMaxDepth)));
  exports.Set("limits", limits);
  return exports;
}

}  // namespace

NODE_API_MODULE(skiff_layer, Init)
