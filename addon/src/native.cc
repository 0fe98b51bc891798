// skiff_native: the few syscalls Node lacks. Each throws a JS Error carrying
// `code` (errno name) and `errno`, with the message "<call> <path>: <strerror>".
#include <napi.h>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../common/rmtree.h"
#include "../common/state.h"
extern "C" napi_value SkiffExternalLatin1(napi_env env, napi_callback_info info);
#include <ctime>

namespace {

const char *ErrnoName(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EWOULDBLOCK: return "EWOULDBLOCK";
    case ENODATA: return "ENODATA";
    case ENOTSUP: return "ENOTSUP";
    case EBADF: return "EBADF";
    case EINTR: return "EINTR";
    case E2BIG: return "E2BIG";
    case ERANGE: return "ERANGE";
    default: {
      const char *n = strerrorname_np(e);
      return n ? n : "EUNKNOWN";
    }
  }
}

Napi::Value ThrowErrno(Napi::Env env, int e, const std::string &what) {
  Napi::Error err = Napi::Error::New(env, what + ": " + strerror(e));
  err.Set("code", Napi::String::New(env, ErrnoName(e)));
  err.Set("errno", Napi::Number::New(env, e));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

// flock(fd, exclusive, nonblock) -> true when taken, false when nonblock and busy.
Napi::Value Flock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool exclusive = info[1].As<Napi::Boolean>().Value();
  bool nonblock = info.Length() > 2 && info[2].As<Napi::Boolean>().Value();
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (nonblock ? LOCK_NB : 0);
  int r;
  do { r = flock(fd, op); } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (nonblock && errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    return ThrowErrno(env, errno, "flock");
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value Funlock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (flock(fd, LOCK_UN) < 0) return ThrowErrno(env, errno, "flock unlock");
  return env.Undefined();
}

Napi::Value Lsetxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0)
    return ThrowErrno(env, errno, "setxattr " + name + " on " + path);
  return env.Undefined();
}

// mknod(path, mode, major, minor): a device node or fifo (mode with its S_IF* type bits); the
// last component is made, never followed. cp copies them as Docker's archives carry them.
Napi::Value Mknod(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  unsigned major_ = info[2].As<Napi::Number>().Uint32Value();
  unsigned minor_ = info[3].As<Napi::Number>().Uint32Value();
  if (!S_ISCHR(mode) && !S_ISBLK(mode) && !S_ISFIFO(mode)) return ThrowErrno(env, EINVAL, "mknod " + path);
  if (mknod(path.c_str(), mode, makedev(major_, minor_)) < 0) return ThrowErrno(env, errno, "mknod " + path);
  return env.Undefined();
}

// lgetxattr(path, name) -> Buffer, or null when the attribute is absent.
Napi::Value Lgetxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  ssize_t n = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) return env.Null();
    return ThrowErrno(env, errno, "getxattr " + name + " on " + path);
  }
  std::vector<char> buf(n > 0 ? n : 1);
  n = lgetxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
  if (n < 0) return ThrowErrno(env, errno, "getxattr " + name + " on " + path);
  return Napi::Buffer<char>::Copy(env, buf.data(), n);
}

Napi::Value Llistxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  ssize_t n = llistxattr(path.c_str(), nullptr, 0);
  Napi::Array out = Napi::Array::New(env);
  if (n < 0) {
    if (errno == ENOTSUP) return out;
    return ThrowErrno(env, errno, "listxattr " + path);
  }
  std::vector<char> buf(n > 0 ? n : 1);
  n = llistxattr(path.c_str(), buf.data(), buf.size());
  if (n < 0) return ThrowErrno(env, errno, "listxattr " + path);
  uint32_t i = 0;
  for (ssize_t off = 0; off < n;) {
    std::string name(buf.data() + off);
    off += name.size() + 1;
    out.Set(i++, Napi::String::New(env, name));
  }
  return out;
}

// A JS array of strings as a NULL-terminated char* vector (the strings stay in `keep`).
std::vector<char *> CStrings(const Napi::Array &a, std::vector<std::string> &keep) {
  for (uint32_t i = 0; i < a.Length(); i++) keep.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  std::vector<char *> out;
  for (auto &s : keep) out.push_back(const_cast<char *>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// execve(file, argv, envp): replaces the whole Node process (all threads) with `file`.
// Returns only by throwing. fds 0-2 are inherited; Node marks its own fds CLOEXEC.
Napi::Value Execve(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> sargv, senv;
  std::vector<char *> argv = CStrings(info[1].As<Napi::Array>(), sargv), envp = CStrings(info[2].As<Napi::Array>(), senv);
  // Node marks stdio close-on-exec (uv_disable_stdio_inheritance) and may have made it
  // non-blocking; the next program must inherit fds 0-2 as ordinary blocking fds.
  for (int fd = 0; fd <= 2; fd++) {
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl >= 0 && (fdfl & FD_CLOEXEC)) fcntl(fd, F_SETFD, fdfl & ~FD_CLOEXEC);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  execve(file.c_str(), argv.data(), envp.data());
  return ThrowErrno(env, errno, "exec " + file);
}

// spawnWait(file, argv, envp) -> {status, signal, stderr}: `file` run with stdin and stdout on
// /dev/null and stderr on a pipe read to its end, then waited for; signals as a new program expects
// them (defaults, none blocked: what node's spawn gives). For a command that only waits for one child
// (`run -d`: the detached shim), without loading node:child_process (with node:net, node:dgram and the
// stream modules it loads, ~1.5-2.5 ms of the start).
Napi::Value SpawnWait(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> sargv, senv;
  std::vector<char *> argv = CStrings(info[1].As<Napi::Array>(), sargv), envp = CStrings(info[2].As<Napi::Array>(), senv);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return ThrowErrno(env, errno, "pipe for " + file);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  int r = posix_spawn_file_actions_init(&fa);
  if (r == 0) r = posix_spawnattr_init(&attr);
  if (r != 0) {
    close(p[0]);
    close(p[1]);
    return ThrowErrno(env, r, "run " + file);
  }
  if ((r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
      (r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) == 0 &&
      (r = posix_spawn_file_actions_adddup2(&fa, p[1], 2)) == 0 &&
      (r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) == 0 &&
      (r = posix_spawnattr_setsigdefault(&attr, &all)) == 0 && (r = posix_spawnattr_setsigmask(&attr, &none)) == 0) {
    pid_t pid;
    r = posix_spawn(&pid, file.c_str(), &fa, &attr, argv.data(), envp.data());
    if (r == 0) {
      close(p[1]);
      p[1] = -1;
      std::string err;
      char buf[4096];
      for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n > 0) err.append(buf, (size_t)n);
        else if (n == 0 || errno != EINTR) break; /* a read error: what came so far is the text */
      }
      close(p[0]);
      posix_spawn_file_actions_destroy(&fa);
      posix_spawnattr_destroy(&attr);
      int st = 0;
      while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return ThrowErrno(env, errno, "wait for " + file);
      Napi::Object out = Napi::Object::New(env);
      out.Set("status", WIFEXITED(st) ? Napi::Number::New(env, WEXITSTATUS(st)) : env.Null());
      out.Set("signal", WIFSIGNALED(st) ? Napi::Number::New(env, WTERMSIG(st)) : env.Null());
      out.Set("stderr", Napi::String::New(env, err));
      return out;
    }
  }
  close(p[0]);
  if (p[1] >= 0) close(p[1]);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return ThrowErrno(env, r, "run " + file);
}

// removeTree(path) -> Promise: rm -rf on the thread pool (common/rmtree.c: any depth, no symlink
// followed, unwritable and immutable entries fixed first). Rejects with one line ("cannot remove
// <path>: <why>") and `code`.
class RemoveTree : public Napi::AsyncWorker {
 public:
  RemoveTree(Napi::Env env, std::string path) : Napi::AsyncWorker(env), path_(std::move(path)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    char why[1024];
    if (rmtree_at(AT_FDCWD, path_.c_str(), why, sizeof why) < 0) {
      errno_ = errno;
      why_ = why;
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!errno_) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    Napi::Error err = Napi::Error::New(env, why_);
    err.Set("code", Napi::String::New(env, ErrnoName(errno_)));
    err.Set("errno", Napi::Number::New(env, errno_));
    err.Set("path", Napi::String::New(env, path_));
    deferred_.Reject(err.Value());
  }

 private:
  std::string path_;
  Napi::Promise::Deferred deferred_;
  int errno_ = 0;
  std::string why_;
};

Napi::Value RemoveTreeAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "removeTree(path)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto *w = new RemoveTree(env, info[0].As<Napi::String>().Utf8Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// observe(dir, id, healthcheck): the container's state from its files (addon/common/state.c, the
// derivation the native ps uses too). Throws an Error with `code` for a file it cannot read.
Napi::Value Observe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsBoolean()) {
    Napi::TypeError::New(env, "observe(dir, id, healthcheck)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string dir = info[0].As<Napi::String>().Utf8Value(), id = info[1].As<Napi::String>().Utf8Value();
  struct ctr_state s;
  char why[1100];
  if (ctr_observe(dir.c_str(), id.c_str(), info[2].As<Napi::Boolean>().Value(), &s, why, sizeof why) < 0) {
    int e = errno;
    Napi::Error err = Napi::Error::New(env, why);
    err.Set("code", Napi::String::New(env, ErrnoName(e)));
    err.Set("errno", Napi::Number::New(env, e));
    err.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char text[256];
  ctr_status_text(&s, (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6, text, sizeof text);
  Napi::Object o = Napi::Object::New(env);
  o.Set("status", Napi::String::New(env, CTR_STATUS_NAMES[s.status]));
  o.Set("pid", Napi::Number::New(env, (double)s.pid));
  o.Set("exitCode", Napi::Number::New(env, s.exit_code));
  o.Set("error", Napi::String::New(env, s.error));
  o.Set("startedAt", Napi::String::New(env, s.started_at));
  o.Set("finishedAt", Napi::String::New(env, s.finished_at));
  o.Set("restartCount", Napi::Number::New(env, s.restart_count));
  o.Set("oomKilled", Napi::Boolean::New(env, s.oom_killed));
  o.Set("detached", Napi::Boolean::New(env, s.detached));
  o.Set("abandoned", Napi::Boolean::New(env, s.abandoned));
  if (s.has_health) {
    o.Set("healthStatus", Napi::String::New(env, s.health_status));
    if (s.health_json) o.Set("healthJson", Napi::String::New(env, s.health_json));
  }
  o.Set("statusText", Napi::String::New(env, text));
  ctr_state_free(&s);
  return o;
}

// livePid(dir): the init's pid while that process is alive (not a reuse of the pid), else 0
Napi::Value LivePid(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), (double)ctr_live_pid(info[0].As<Napi::String>().Utf8Value().c_str()));
}

// isMonitor(pid, id): a live process whose command line names the container
Napi::Value IsMonitor(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), ctr_is_monitor((long)info[0].As<Napi::Number>().Int64Value(),
                                                       info[1].As<Napi::String>().Utf8Value().c_str()));
}

// peerClosed(fd): the other end of a connected socket has closed it (POLLHUP: a Unix socket's peer
// gone, not a peer that only shut down its sending side)
Napi::Value PeerClosed(const Napi::CallbackInfo &info) {
  struct pollfd p = {info[0].As<Napi::Number>().Int32Value(), POLLIN | POLLRDHUP, 0};
  int n;
  do n = poll(&p, 1, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    Napi::Error::New(info.Env(), std::string("poll: ") + strerror(errno)).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  return Napi::Boolean::New(info.Env(), n > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0);
}

Napi::Value BootId(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), ctr_boot_id()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("observe", Napi::Function::New(env, Observe));
  exports.Set("livePid", Napi::Function::New(env, LivePid));
  exports.Set("isMonitor", Napi::Function::New(env, IsMonitor));
  exports.Set("bootId", Napi::Function::New(env, BootId));
  exports.Set("peerClosed", Napi::Function::New(env, PeerClosed));
  exports.Set("removeTree", Napi::Function::New(env, RemoveTreeAsync));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("funlock", Napi::Function::New(env, Funlock));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr));
  exports.Set("execve", Napi::Function::New(env, Execve));
  exports.Set("spawnWait", Napi::Function::New(env, SpawnWait));
  napi_value external;  // external_string.c (plain N-API: its call is declared only under NAPI_EXPERIMENTAL)
  if (napi_create_function(env, "externalLatin1", NAPI_AUTO_LENGTH, SkiffExternalLatin1, nullptr, &external) == napi_ok)
    exports.Set("externalLatin1", Napi::Value(env, external));
  return exports;
}

}  // namespace

NODE_API_MODULE(skiff_native, Init)
