// OCI layer tar -> overlayfs "diff" directory, fed chunk by chunk (tar_extract.cc has the rules).
// Plain C++ (no N-API): layer.cc runs it on the libuv thread pool, one chunk at a time per layer.
#pragma once
#include <sys/types.h>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace skiff {

// What an entry path (normalised) and a link target may be, in every layer skiff takes or makes
// (the packer, src/store/tarball.ts, reads these from the addon): the longest path a process can
// pass the kernel is PATH_MAX (4096) with its NUL, one name NAME_MAX (255); deeper than 1024 levels
// no real image goes, and every later walk of the layer (build, push, removal) stays bounded.
constexpr size_t kMaxPath = 4095;
constexpr size_t kMaxName = 255;
constexpr size_t kMaxDepth = 1024;

struct TarOptions {
  std::string overlayPrefix = "trusted.overlay.";  // or "user.overlay." (rootless)
  bool chown = true;  // apply entry owners (false when only one id is mapped)
  // the owner a new inode gets anyway (our euid/egid), or -1 when that does not hold (setgid target)
  int64_t ownUid = -1;
  int64_t ownGid = -1;
  std::string label;  // names the layer in messages ("" or e.g. its digest)
  // Decompression bound (0: none): the tar may be at most inflateFloor + inflateRatio times the
  // compressed bytes given so far (AddInput), and, when compressedSize is known, times that.
  uint64_t inflateRatio = 0;
  uint64_t inflateFloor = 0;
  uint64_t compressedSize = 0;
};

// What failed: `skiff` errors are the layer's fault (code EINVAL, or ERUNTIME); the others are a
// syscall's errno (`code` its name, e.g. ENOSPC), with node's message shape.
struct TarError {
  bool set = false;
  bool skiff = false;
  std::string code;
  std::string message;
  bool wrapped = false;  // the message names its entry
};

struct TarTime {
  int64_t sec = 0;
  long nsec = 0;
};

class TarExtractor {
 public:
  TarExtractor(std::string target, TarOptions opts);
  ~TarExtractor();
  TarExtractor(const TarExtractor &) = delete;
  TarExtractor &operator=(const TarExtractor &) = delete;

  // false when the target cannot be opened (error() says why)
  bool Open();
  // `n` more compressed bytes went in (for the decompression bound)
  void AddInput(uint64_t n) { input_ += n; }
  // consume the next bytes of the archive; false on the first error (error() says it; stop feeding)
  bool Feed(const uint8_t *p, size_t n);
  // the archive is complete: checks its end, applies directory metadata
  bool End();
  // once *flag is true (set from another thread), Feed stops at the next entry with ECANCELED
  void StopWhen(const std::atomic<bool> *flag) { stop_ = flag; }
  // give up (or, after End, release): closes what is open (the caller removes the target)
  void Abort();

  const TarError &error() const { return err_; }
  uint64_t size() const { return size_; }
  uint64_t skippedDevices() const { return skippedDevices_; }

 private:
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  struct Entry {
    std::string name, linkname;
    char type = '0';
    int64_t mode = 0, uid = 0, gid = 0, size = 0, devmajor = 0, devminor = 0;
    TarTime mtime, atime;
    bool hasAtime = false;
    Pairs xattrs;
  };
  struct DirMeta {
    std::string rel;
    int64_t mode;
    TarTime atime, mtime;
    bool live;
  };
  enum class State { Header, Meta, Body, Skip, End };
  enum class Room { None, Dir, Removed };

  // parsing
  bool OnHeader(const uint8_t *b);
  bool OnMeta();
  bool ApplyPax(Entry &e, const Pairs &local, uint64_t at);
  bool BadHeader(uint64_t at, const std::string &why);
  // writing (each false on error, with err_ set)
  bool DoEntry(Entry &e, uint64_t padAfter, bool &bodyFollows);
  bool Parents(const std::vector<std::string> &comps, const Entry &e, bool create, std::string &rel);
  bool MakeRoom(const std::string &rel, bool keepDir, Room &room);
  template <typename F>
  bool Create(const std::string &rel, F make);
  bool SetXattrs(const std::string &rel, int fd, const Entry &e);
  int LSetXattr(const std::string &rel, const std::string &key, const char *value, size_t size);
  bool Directory(const std::string &rel, const Entry &e);
  bool HardLink(const Entry &e, const std::vector<std::string> &comps);
  bool OpenFile(const std::string &rel, const Entry &e, uint64_t padAfter, bool counted);
  bool WriteBody(const uint8_t *p, size_t n);
  bool FinishFile();
  bool FinishDirs();
  bool RemoveTree(const std::string &rel);
  bool Chowns(const Entry &e) const;
  bool Escapes(const Entry &e, const std::string &what = "path escapes the layer root");
  bool PathLimits(const Entry &e, const std::vector<std::string> &comps, const char *what);
  bool Inflates(uint64_t upTo, uint64_t compressed);
  bool Sys(const char *syscall, const std::string &rel, int errnum);
  bool Wrap(const Entry &e);
  void Skip(uint64_t n);
  std::string Path(const std::string &rel) const { return rel.empty() ? root_ : root_ + "/" + rel; }
  const char *At(const std::string &rel) const { return rel.empty() ? "." : rel.c_str(); }
  std::string Label() const { return opts_.label.empty() ? "" : " " + opts_.label; }

  std::string root_;
  TarOptions opts_;
  const std::atomic<bool> *stop_ = nullptr;
  int rootfd_ = -1;
  TarError err_;

  State state_ = State::Header;
  uint64_t offset_ = 0;
  uint8_t hdr_[512];
  size_t hdrFill_ = 0;
  uint64_t hdrOffset_ = 0;
  char metaType_ = 0;
  std::string meta_;
  uint64_t metaLeft_ = 0, metaSize_ = 0, skipLeft_ = 0;
  bool hasLongName_ = false, hasLongLink_ = false;
  std::string longName_, longLink_;
  Pairs pax_, globalPax_;

  int fd_ = -1;
  std::string fileRel_;
  Entry fileEntry_;
  uint64_t bodyLeft_ = 0, padAfter_ = 0;

  std::unordered_set<std::string> dirs_;
  std::vector<DirMeta> dirMeta_;
  std::unordered_map<std::string, size_t> dirIndex_;
  bool plnk_ = false;

  uint64_t size_ = 0;
  uint64_t skippedDevices_ = 0;
  uint64_t input_ = 0;
};

}  // namespace skiff
