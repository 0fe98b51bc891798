// `new Layer(target, opts)`: one layer blob's way into its diff directory, off the main thread.
// Each `write(chunks, cb)` runs on the libuv thread pool: the chunks are gunzipped (opts.gzip) with
// ISA-L into one scratch block at a time, hashed (opts.digest: the diffID's algorithm) and handed
// to the tar extractor (tar_extract.cc), which writes them straight to their files. So several
// layers extract at once, on every core, and no uncompressed byte crosses into JavaScript.
// One job at a time per Layer (the JS stream around it guarantees that). `end(cb)` checks the
// gzip and tar ends, applies directory metadata and calls back `{size, skippedDevices, digest}`.
// `abort(cb)` stops a running job at its next block or tar entry and closes what is open, then
// calls back: only then may the caller remove the target.
// Errors are Error objects with `code` (EINVAL/ERUNTIME for a bad layer, else the errno name) and
// `stage` ('inflate' for corrupt gzip, 'extract' otherwise).
#include "layer.h"

#include <openssl/evp.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gzip.h"
#include "tar_extract.h"

namespace skiff {
namespace {

constexpr size_t kScratch = 256 * 1024;

struct Failure {
  bool set = false;
  std::string stage, code, message;
};

class Layer : public Napi::ObjectWrap<Layer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Layer", {InstanceMethod("write", &Layer::Write), InstanceMethod("end", &Layer::End), InstanceMethod("abort", &Layer::Abort)});
  }

  explicit Layer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Layer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "new Layer(target, options)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[1].As<Napi::Object>();
    TarOptions t;
    auto str = [&](const char *k) { Napi::Value v = o.Get(k); return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string(); };
    t.overlayPrefix = str("overlayXattrPrefix");
    if (t.overlayPrefix.empty()) t.overlayPrefix = "trusted.overlay.";
    t.chown = o.Get("chown").ToBoolean().Value();
    t.label = str("label");
    // the decompression bound (extract.ts: inflateLimit): { ratio, floor, compressedSize? }
    Napi::Value lim = o.Get("inflateLimit");
    if (lim.IsObject()) {
      Napi::Object l = lim.As<Napi::Object>();
      auto num = [&](const char *k) { Napi::Value v = l.Get(k); return v.IsNumber() && v.As<Napi::Number>().DoubleValue() > 0 ? static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue()) : 0; };
      t.inflateRatio = num("ratio");
      t.inflateFloor = num("floor");
      t.compressedSize = num("compressedSize");
    }
    gzip_ = o.Get("gzip").ToBoolean().Value();
    const std::string digest = str("digest");
    if (!digest.empty()) {
      const EVP_MD *md = EVP_get_digestbyname(digest.c_str());
      if (!md || !(md_ = EVP_MD_CTX_new()) || EVP_DigestInit_ex(md_, md, nullptr) != 1) {
        Napi::Error::New(env, "unsupported digest algorithm " + digest).ThrowAsJavaScriptException();
        return;
      }
      algorithm_ = digest;
    }
    tar_ = std::make_unique<TarExtractor>(info[0].As<Napi::String>().Utf8Value(), t);
    tar_->StopWhen(&cancelled_);  // an abort stops a running job at its next entry
  }
  ~Layer() override {
    if (md_) EVP_MD_CTX_free(md_);
  }

  // pool side
  bool Opened(Failure &f) {
    if (opened_) return true;
    opened_ = true;
    if (tar_->Open()) return true;
    return Fail(f);
  }
  bool Fail(Failure &f) {
    const TarError &e = tar_->error();
    f = {true, "extract", e.code, e.message};
    return false;
  }
  // GunzipInto's sink: the scratch block, then hash + extract what was produced
  unsigned char *Block(size_t *cap) {
    *cap = kScratch;
    return scratch_.get();
  }
  bool Put(const unsigned char *p, size_t n) {
    if (cancelled_.load(std::memory_order_relaxed)) return false;
    if (!n) return true;
    if (md_) EVP_DigestUpdate(md_, p, n);
    return tar_->Feed(p, n);
  }
  void Run(const std::vector<std::pair<const unsigned char *, size_t>> &chunks, Failure &f) {
    if (!Opened(f)) return;
    for (const auto &[p, n] : chunks) {
      tar_->AddInput(n);
      if (gzip_) {
        const char *e = GunzipInto(gz_, p, n, *this);
        if (e == kSinkStopped) {
          if (!cancelled_) Fail(f);
          return;
        }
        if (e) {
          f = {true, "inflate", "EDIGEST", e};
          return;
        }
      } else if (!Put(p, n)) {
        if (!cancelled_) Fail(f);
        return;
      }
    }
  }
  void Finish(Failure &f, std::string &digest) {
    if (!Opened(f)) return;
    if (gzip_ && gz_.Truncated()) {
      f = {true, "inflate", "EDIGEST", "unexpected end of file"};
      return;
    }
    if (!tar_->End()) {
      Fail(f);
      return;
    }
    if (md_) {
      unsigned char out[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_DigestFinal_ex(md_, out, &len);
      digest = algorithm_ + ":";
      char hex[3];
      for (unsigned i = 0; i < len; i++) {
        std::snprintf(hex, sizeof hex, "%02x", out[i]);
        digest += hex;
      }
    }
  }
  // main side
  void JobDone() {
    busy_ = false;
    if (cancelled_) {
      tar_->Abort();
      for (auto &cb : aborts_) cb.Call({});
      aborts_.clear();
    }
  }
  static Napi::Error ToError(Napi::Env env, const Failure &f) {
    Napi::Error e = Napi::Error::New(env, f.message);
    e.Set("code", f.code);
    e.Set("stage", f.stage);
    return e;
  }

 private:
  Napi::Value Write(const Napi::CallbackInfo &info);
  Napi::Value End(const Napi::CallbackInfo &info);
  Napi::Value Abort(const Napi::CallbackInfo &info) {
    cancelled_ = true;
    Napi::Function cb = info.Length() > 0 && info[0].IsFunction() ? info[0].As<Napi::Function>() : Napi::Function();
    if (busy_) {
      if (!cb.IsEmpty()) aborts_.push_back(Napi::Persistent(cb));
    } else {
      tar_->Abort();
      if (!cb.IsEmpty()) cb.Call({});
    }
    return info.Env().Undefined();
  }
  bool Busy(Napi::Env env) {
    if (busy_) {
      Napi::Error::New(env, "a Layer runs one job at a time").ThrowAsJavaScriptException();
      return true;
    }
    return false;
  }

  friend class Job;
  std::unique_ptr<TarExtractor> tar_;
  GzipState gz_;
  bool gzip_ = false;
  bool opened_ = false;
  bool busy_ = false;
  std::atomic<bool> cancelled_{false};
  std::vector<Napi::FunctionReference> aborts_;
  EVP_MD_CTX *md_ = nullptr;
  std::string algorithm_;
  std::unique_ptr<unsigned char[]> scratch_{new unsigned char[kScratch]};
};

class Job : public Napi::AsyncWorker {
 public:
  Job(Napi::Function cb, Layer *layer, Napi::Object self, Napi::Value chunks) : Napi::AsyncWorker(cb), layer_(layer) {
    self_ = Napi::Persistent(self);
    if (chunks.IsArray()) {
      Napi::Array a = chunks.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value v = a.Get(i);
        if (!v.IsBuffer()) continue;
        auto b = v.As<Napi::Buffer<unsigned char>>();
        chunks_.emplace_back(b.Data(), b.Length());
      }
      keep_ = Napi::Persistent(chunks.As<Napi::Object>());
    } else {
      end_ = true;
    }
    layer_->busy_ = true;
  }
  void Execute() override {
    if (layer_->cancelled_) return;
    if (end_) layer_->Finish(failure_, digest_);
    else layer_->Run(chunks_, failure_);
  }
  void OnOK() override {
    Napi::Env env = Env();
    layer_->JobDone();
    if (layer_->cancelled_) {
      Callback().Call({Layer::ToError(env, {true, "extract", "ECANCELED", "layer extraction was aborted"}).Value()});
      return;
    }
    if (failure_.set) {
      Callback().Call({Layer::ToError(env, failure_).Value()});
      return;
    }
    if (!end_) {
      Callback().Call({env.Null()});
      return;
    }
    Napi::Object r = Napi::Object::New(env);
    r.Set("size", Napi::Number::New(env, static_cast<double>(layer_->tar_->size())));
    r.Set("skippedDevices", Napi::Number::New(env, static_cast<double>(layer_->tar_->skippedDevices())));
    if (!digest_.empty()) r.Set("digest", digest_);
    Callback().Call({env.Null(), r});
  }

 private:
  Layer *layer_;
  Napi::ObjectReference self_;
  Napi::ObjectReference keep_;
  std::vector<std::pair<const unsigned char *, size_t>> chunks_;
  bool end_ = false;
  Failure failure_;
  std::string digest_;
};

Napi::Value Layer::Write(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "write(buffers, callback)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (Busy(env)) return env.Undefined();
  (new Job(info[1].As<Napi::Function>(), this, info.This().As<Napi::Object>(), info[0]))->Queue();
  return env.Undefined();
}

Napi::Value Layer::End(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(env, "end(callback)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (Busy(env)) return env.Undefined();
  (new Job(info[0].As<Napi::Function>(), this, info.This().As<Napi::Object>(), env.Undefined()))->Queue();
  return env.Undefined();
}

}  // namespace

Napi::Function DefineLayer(Napi::Env env) { return Layer::Define(env); }

}  // namespace skiff
