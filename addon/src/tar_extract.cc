// OCI layer tar -> overlayfs "diff" directory (the store's one extractor: pull, load and commit).
//
// Why our own tar reader: PAX records and names stay raw bytes (binary xattrs such as
// security.capability, non-UTF-8 file names). Formats: POSIX ustar (prefix field), GNU (long names
// `L`, long links `K`, base-256 numbers), PAX `x` (next entry) and `g` (defaults for all later
// entries; path/linkpath/size are never global), libarchive's `LIBARCHIVE.xattr.*` as a fallback
// for xattrs. Header-only types (links, dirs, devices, fifos) carry no data whatever their size
// field says, as Go's archive/tar reads them.
//
// Overlay format: `.wh.<name>` -> char device 0:0 `<name>`; `.wh..wh..opq` -> `<prefix>opaque=y`
// on its directory; other `.wh..wh.*` (aufs metadata) are skipped; files under the top-level
// `.wh..wh.plnk` are kept until the end as possible hard-link targets.
//
// Security: entry paths are normalised lexically and may not climb out with `..`. They are created
// component by component under the target's fd and never through a symlink: a parent that is a
// symlink (which can only have come from this layer: the target starts empty) fails the layer, and
// the final component is created with O_EXCL / mkdirat / symlinkat / mknodat / linkat, which never
// follow one. Hard-link targets must name an existing non-directory of this layer, reached the
// same way. Anything else fails the whole layer (EINVAL); the caller discards the staging dir.
//
// Speed: a handful of syscalls per entry, in the order GNU tar uses: create, write (straight from
// the decompressor's buffer), fchown (skipped when the owner is already ours), xattrs, fchmod
// (after chown, which clears setuid), futimens, close. Parents known to be real directories are
// cached so deep trees cost no fstatat per component. Directory modes and times are applied at the
// end, deepest (latest) first, since creating children changes a directory's mtime (and a
// read-only mode would block them).
#include "tar_extract.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../common/rmtree.h"

namespace skiff {

namespace {

// Go's archive/tar (Docker, containerd) reads at most 1 MiB of one PAX or GNU long-name body; the
// PAX records in force for one entry (its own and the global ones) are held to that too.
constexpr uint64_t kMaxMeta = 1u << 20;

constexpr int64_t kMaxSafe = 9007199254740991LL;  // what the JS side can hold exactly
const std::string kPlnk = ".wh..wh.plnk";  // aufs' hard-link directory in old layers

bool StartsWith(const std::string &s, const char *p) { return s.rfind(p, 0) == 0; }

// Octal (NUL/space padded) or GNU base-256 number; false when malformed.
bool ParseNumber(const uint8_t *b, size_t len, int64_t &out) {
  if (b[0] & 0x80) {
    const uint8_t inv = (b[0] & 0x40) ? 0xff : 0;
    int64_t x = 0;
    for (size_t i = 0; i < len; i++) {
      uint8_t c = b[i] ^ inv;
      if (i == 0) c &= 0x7f;
      if (x > (kMaxSafe - c) / 256) return false;
      x = x * 256 + c;
    }
    out = inv ? -x - 1 : x;
    return true;
  }
  size_t i = 0;
  while (i < len && (b[i] == ' ' || b[i] == 0)) i++;
  int64_t x = 0;
  for (; i < len && b[i] >= '0' && b[i] <= '7'; i++) {
    if (x > kMaxSafe / 8) return false;
    x = x * 8 + (b[i] - '0');
  }
  for (; i < len; i++)
    if (b[i] != ' ' && b[i] != 0) return false;
  out = x;
  return true;
}

// A NUL-terminated field as raw bytes.
std::string Field(const uint8_t *b, size_t len) {
  const void *z = std::memchr(b, 0, len);
  return std::string(reinterpret_cast<const char *>(b), z ? static_cast<const uint8_t *>(z) - b : len);
}

bool ChecksumOk(const uint8_t *b) {
  int64_t stored;
  if (!ParseNumber(b + 148, 8, stored)) return false;
  int64_t unsignedSum = 8 * 0x20, signedSum = 8 * 0x20;
  for (int i = 0; i < 512; i++) {
    if (i >= 148 && i < 156) continue;
    unsignedSum += b[i];
    signedSum += static_cast<int8_t>(b[i]);
  }
  return stored == unsignedSum || stored == signedSum;
}

bool IsZeroBlock(const uint8_t *b) {
  for (int i = 0; i < 512; i++)
    if (b[i]) return false;
  return true;
}

void Set(std::vector<std::pair<std::string, std::string>> &m, std::string k, std::string v) {
  for (auto &kv : m)
    if (kv.first == k) {
      kv.second = std::move(v);
      return;
    }
  m.emplace_back(std::move(k), std::move(v));
}

// PAX records `"<len> <key>=<value>\n"`; values stay raw bytes. An empty value deletes the key.
bool ParsePax(const std::string &d, std::vector<std::pair<std::string, std::string>> &into) {
  size_t i = 0;
  while (i < d.size()) {
    if (d[i] == 0) break;  // some writers pad with NULs
    size_t sp = d.find(' ', i);
    if (sp == std::string::npos || sp == i || sp - i > 9) return false;
    size_t len = 0;
    for (size_t j = i; j < sp; j++) {
      if (d[j] < '0' || d[j] > '9') return false;
      len = len * 10 + (d[j] - '0');
    }
    if (len <= sp - i + 1 || i + len > d.size() || d[i + len - 1] != '\n') return false;
    std::string rec = d.substr(sp + 1, i + len - 1 - (sp + 1));
    size_t eq = rec.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    Set(into, rec.substr(0, eq), rec.substr(eq + 1));
    i += len;
  }
  return true;
}

// `-?[0-9]+(\.[0-9]*)?` as seconds and nanoseconds (digits past the ninth are dropped).
bool PaxTime(const std::string &v, TarTime &t) {
  size_t i = 0;
  bool neg = false;
  if (i < v.size() && v[i] == '-') {
    neg = true;
    i++;
  }
  size_t start = i;
  int64_t sec = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; i++) {
    if (sec > (kMaxSafe - 9) / 10) return false;
    sec = sec * 10 + (v[i] - '0');
  }
  if (i == start) return false;
  long nsec = 0;
  if (i < v.size() && v[i] == '.') {
    i++;
    int digits = 0;
    for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; i++, digits++)
      if (digits < 9) nsec = nsec * 10 + (v[i] - '0');
    for (; digits < 9; digits++) nsec *= 10;
  }
  if (i != v.size()) return false;
  if (neg) {
    sec = -sec;
    if (nsec) {
      sec -= 1;
      nsec = 1000000000L - nsec;
    }
  }
  t.sec = sec;
  t.nsec = nsec;
  return true;
}

// Lexically normalised components of an entry path; false if it climbs out of the root.
bool Normalise(const std::string &name, std::vector<std::string> &out) {
  out.clear();
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    std::string c = name.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (out.empty()) return false;
      out.pop_back();
    } else {
      out.push_back(std::move(c));
    }
  }
  return true;
}

// decodeURIComponent's %XX escapes (libarchive's xattr names); false when malformed.
bool PercentDecode(const std::string &s, std::string &out) {
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
  out.clear();
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return false;
    int h = hex(s[i + 1]), l = hex(s[i + 2]);
    if (h < 0 || l < 0) return false;
    out += static_cast<char>(h * 16 + l);
    i += 2;
  }
  return true;
}

bool Base64Decode(const std::string &s, std::string &out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') break;
    else continue;  // as node's Buffer.from(s, 'base64'): other characters are skipped
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

std::string Lower1(const char *s) {
  std::string r(s);
  if (!r.empty() && r[0] >= 'A' && r[0] <= 'Z' && !(r.size() > 1 && r[1] >= 'A' && r[1] <= 'Z')) r[0] = static_cast<char>(r[0] - 'A' + 'a');
  return r;
}

uint64_t PairsBytes(const std::vector<std::pair<std::string, std::string>> &m) {
  uint64_t n = 0;
  for (const auto &kv : m) n += kv.first.size() + kv.second.size();
  return n;
}

// A name as messages show it: control characters escaped (one line), a long one shortened.
std::string Shown(const std::string &s) {
  auto clean = [](const std::string &in) {
    std::string out;
    for (unsigned char c : in) {
      if (c < 0x20 || c == 0x7f) {
        char b[5];
        std::snprintf(b, sizeof b, "\\x%02x", c);
        out += b;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out;
  };
  if (s.size() <= 200) return clean(s);
  return clean(s.substr(0, 80)) + "..." + clean(s.substr(s.size() - 80)) + " (" + std::to_string(s.size()) + " bytes)";
}

}  // namespace

TarExtractor::TarExtractor(std::string target, TarOptions opts) : root_(std::move(target)), opts_(std::move(opts)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  dirs_.insert("");
}

TarExtractor::~TarExtractor() { Abort(); }

bool TarExtractor::Open() {
  rootfd_ = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd_ < 0) return Sys("open", "", errno);
  struct stat st;
  if (fstat(rootfd_, &st) < 0) return Sys("fstat", "", errno);
  // Entries owned by the owner a new inode gets anyway need no chown (most of a layer when we are
  // root). The target's directories are created without setgid (modes come at the end), so only
  // a setgid target could hand out another group.
  const bool setgid = opts_.chown && (st.st_mode & S_ISGID);
  opts_.ownUid = setgid ? -1 : static_cast<int64_t>(geteuid());
  opts_.ownGid = setgid ? -1 : static_cast<int64_t>(getegid());
  return true;
}

bool TarExtractor::Chowns(const Entry &e) const { return opts_.chown && (e.uid != opts_.ownUid || e.gid != opts_.ownGid); }

bool TarExtractor::BadHeader(uint64_t at, const std::string &why) {
  err_ = {true, true, "EINVAL", "invalid tar header at offset " + std::to_string(at) + ": " + why};
  return false;
}

bool TarExtractor::Escapes(const Entry &e, const std::string &what) {
  err_ = {true, true, "EINVAL", "layer" + Label() + " entry \"" + Shown(e.name) + "\": " + what};
  return false;
}

// The limits every entry path and link target keeps (kMaxPath, kMaxName, kMaxDepth), `what` names it.
bool TarExtractor::PathLimits(const Entry &e, const std::vector<std::string> &comps, const char *what) {
  if (comps.size() > kMaxDepth) return Escapes(e, std::string(what) + " is " + std::to_string(comps.size()) + " levels deep, deeper than the limit of " + std::to_string(kMaxDepth));
  size_t len = comps.empty() ? 0 : comps.size() - 1;
  for (const auto &c : comps) {
    if (c.size() > kMaxName) return Escapes(e, std::string(what) + " has a name of " + std::to_string(c.size()) + " bytes, longer than NAME_MAX (" + std::to_string(kMaxName) + ")");
    len += c.size();
  }
  if (len > kMaxPath) return Escapes(e, std::string(what) + " is " + std::to_string(len) + " bytes long, longer than PATH_MAX allows (" + std::to_string(kMaxPath) + ")");
  return true;
}

// Whether the tar would reach `upTo` bytes beyond the decompression bound for `compressed` input bytes.
bool TarExtractor::Inflates(uint64_t upTo, uint64_t compressed) {
  if (!opts_.inflateRatio) return false;
  const uint64_t cap = compressed > (UINT64_MAX - opts_.inflateFloor) / opts_.inflateRatio ? UINT64_MAX : opts_.inflateFloor + opts_.inflateRatio * compressed;
  if (upTo <= cap) return false;
  err_ = {true, true, "EINVAL", "layer" + Label() + " inflates to more than " + std::to_string(opts_.inflateRatio) + " times its compressed size plus " +
                                    std::to_string(opts_.inflateFloor >> 20) + " MiB: refused as a possible decompression bomb"};
  return true;
}

bool TarExtractor::Sys(const char *syscall, const std::string &rel, int errnum) {
  const char *name = strerrorname_np(errnum);
  std::string code = name ? name : "E" + std::to_string(errnum);
  err_ = {true, false, code, std::string(syscall) + " " + Shown(Path(rel)) + ": " + Lower1(strerror(errnum))};
  return false;
}

bool TarExtractor::Wrap(const Entry &e) {
  // a syscall's failure says which entry it was for (not for a full disk: that is no entry's fault)
  if (err_.set && !err_.skiff && !err_.wrapped && err_.code != "ENOSPC" && err_.code != "EDQUOT") {
    err_.message = "layer" + Label() + " entry \"" + Shown(e.name) + "\": " + err_.message;
    err_.wrapped = true;
  }
  return false;
}

void TarExtractor::Skip(uint64_t n) {
  if (n > 0) {
    skipLeft_ = n;
    state_ = State::Skip;
  } else {
    state_ = State::Header;
  }
}

bool TarExtractor::Feed(const uint8_t *p, size_t n) {
  if (err_.set) return false;
  if (Inflates(offset_ + n, input_)) return false;
  size_t i = 0;
  while (i < n) {
    switch (state_) {
      case State::Header: {
        if (stop_ && stop_->load(std::memory_order_relaxed)) {
          err_ = {true, false, "ECANCELED", "layer" + Label() + " extraction was aborted"};
          return false;
        }
        if (hdrFill_ == 0 && n - i >= 512) {
          hdrOffset_ = offset_;
          offset_ += 512;
          const uint8_t *b = p + i;
          i += 512;
          if (!OnHeader(b)) return false;
        } else {
          if (hdrFill_ == 0) hdrOffset_ = offset_;
          size_t take = std::min<size_t>(512 - hdrFill_, n - i);
          std::memcpy(hdr_ + hdrFill_, p + i, take);
          hdrFill_ += take;
          offset_ += take;
          i += take;
          if (hdrFill_ == 512) {
            hdrFill_ = 0;
            if (!OnHeader(hdr_)) return false;
          }
        }
        break;
      }
      case State::Meta: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(metaLeft_, n - i));
        meta_.append(reinterpret_cast<const char *>(p + i), take);
        metaLeft_ -= take;
        offset_ += take;
        i += take;
        if (metaLeft_ == 0 && !OnMeta()) return false;
        break;
      }
      case State::Body: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(bodyLeft_, n - i));
        if (!WriteBody(p + i, take)) return Wrap(fileEntry_);
        bodyLeft_ -= take;
        offset_ += take;
        i += take;
        if (bodyLeft_ == 0 && !FinishFile()) return Wrap(fileEntry_);
        break;
      }
      case State::Skip: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(skipLeft_, n - i));
        skipLeft_ -= take;
        offset_ += take;
        i += take;
        if (skipLeft_ == 0) state_ = State::Header;
        break;
      }
      case State::End:
        // what follows the end-of-archive blocks is read and dropped (the caller's digest sees it)
        offset_ += n - i;
        return true;
    }
  }
  return true;
}

bool TarExtractor::End() {
  if (err_.set) return false;
  if (state_ != State::End) {
    if (state_ == State::Header && hdrFill_ == 0 && longName_.empty() && longLink_.empty() && pax_.empty()) {
      state_ = State::End;  // EOF on a block boundary without end-of-archive blocks: accepted, as Go's archive/tar does
    } else {
      err_ = {true, true, "EINVAL", "layer" + Label() + " archive is truncated at offset " + std::to_string(offset_)};
      return false;
    }
  }
  if (!FinishDirs()) return false;
  close(rootfd_);
  rootfd_ = -1;
  return true;
}

void TarExtractor::Abort() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (rootfd_ >= 0) {
    close(rootfd_);
    rootfd_ = -1;
  }
}

bool TarExtractor::OnHeader(const uint8_t *b) {
  const uint64_t at = hdrOffset_;
  if (IsZeroBlock(b)) {
    state_ = State::End;  // end of archive (the second zero block, and any padding, is drained)
    return true;
  }
  if (!ChecksumOk(b)) return BadHeader(at, "checksum mismatch");
  const char type = b[156] == 0 ? '0' : static_cast<char>(b[156]);
  int64_t size;
  if (!ParseNumber(b + 124, 12, size) || size < 0) return BadHeader(at, "bad size field");
  const uint64_t padded = (static_cast<uint64_t>(size) + 511) / 512 * 512;

  if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
    if (static_cast<uint64_t>(size) > kMaxMeta) return BadHeader(at, "extended header of " + std::to_string(size) + " bytes is larger than the limit of 1 MiB");
    metaType_ = type;
    metaSize_ = static_cast<uint64_t>(size);
    metaLeft_ = padded;
    meta_.clear();
    meta_.reserve(padded);
    state_ = State::Meta;
    if (padded == 0) return OnMeta();
    return true;
  }

  const bool posix = std::memcmp(b + 257, "ustar\0", 6) == 0;
  std::string name = Field(b, 100);
  if (posix && b[345] != 0) name = Field(b + 345, 155) + "/" + name;
  Entry e;
  e.name = hasLongName_ ? longName_ : name;
  e.linkname = hasLongLink_ ? longLink_ : Field(b + 157, 100);
  e.type = type;
  e.size = size;
  bool okDev = ParseNumber(b + 329, 8, e.devmajor) & ParseNumber(b + 337, 8, e.devminor);
  if ((type == '3' || type == '4') && !okDev) return BadHeader(at, "bad device number");
  int64_t mtime = 0;
  if (!ParseNumber(b + 100, 8, e.mode) || !ParseNumber(b + 108, 8, e.uid) || !ParseNumber(b + 116, 8, e.gid) || !ParseNumber(b + 136, 12, mtime)) {
    return BadHeader(at, "bad numeric field");
  }
  e.mtime.sec = mtime;
  hasLongName_ = hasLongLink_ = false;
  longName_.clear();
  longLink_.clear();
  Pairs local;
  local.swap(pax_);
  if ((!globalPax_.empty() || !local.empty()) && !ApplyPax(e, local, at)) return false;
  // an owner chown(2) cannot take (-1 would mean "unchanged")
  if (e.uid < 0 || e.gid < 0 || e.uid > 0xfffffffeLL || e.gid > 0xfffffffeLL) return BadHeader(at, "bad numeric field");
  e.mode &= 07777;
  if (!e.hasAtime) e.atime = e.mtime;

  // header-only types carry no data (Go's archive/tar agrees); others are followed by `size` bytes
  const bool headerOnly = type >= '1' && type <= '6';
  const uint64_t dataLen = headerOnly ? 0 : static_cast<uint64_t>(e.size);
  const uint64_t dataPadded = (dataLen + 511) / 512 * 512;
  // the whole blob is at most compressedSize bytes: an entry that cannot fit the bound is refused before any write
  if (opts_.compressedSize && Inflates(at + 512 + dataPadded, opts_.compressedSize)) return false;
  bool bodyFollows = false;
  if (!DoEntry(e, dataPadded - dataLen, bodyFollows)) return Wrap(e);
  if (!bodyFollows) Skip(dataPadded);
  return true;
}

bool TarExtractor::OnMeta() {
  const uint64_t at = hdrOffset_;
  meta_.resize(metaSize_);
  state_ = State::Header;
  switch (metaType_) {
    case 'L':
      longName_ = Field(reinterpret_cast<const uint8_t *>(meta_.data()), meta_.size());
      hasLongName_ = true;
      break;
    case 'K':
      longLink_ = Field(reinterpret_cast<const uint8_t *>(meta_.data()), meta_.size());
      hasLongLink_ = true;
      break;
    case 'x':
      if (!ParsePax(meta_, pax_)) return BadHeader(at, "malformed PAX extended header");
      if (PairsBytes(pax_) > kMaxMeta) return BadHeader(at, "PAX records for one entry exceed the limit of 1 MiB");
      break;
    case 'g':
      if (!ParsePax(meta_, globalPax_)) return BadHeader(at, "malformed PAX extended header");
      if (PairsBytes(globalPax_) > kMaxMeta) return BadHeader(at, "global PAX records exceed the limit of 1 MiB");
      break;
  }
  meta_.clear();
  return true;
}

bool TarExtractor::ApplyPax(Entry &e, const Pairs &local, uint64_t at) {
  Pairs all;
  for (const auto &kv : globalPax_)
    if (kv.first != "path" && kv.first != "linkpath" && kv.first != "size") Set(all, kv.first, kv.second);
  for (const auto &kv : local) Set(all, kv.first, kv.second);
  Pairs libarchive;
  auto number = [&](const std::string &k, const std::string &v, TarTime &t) {
    if (PaxTime(v, t)) return true;
    return BadHeader(at, "bad PAX " + k + " \"" + v + "\"");
  };
  for (const auto &[k, v] : all) {
    if (v.empty()) continue;  // an empty value removes the key (and any global default)
    TarTime t;
    if (k == "path") {
      e.name = v;
    } else if (k == "linkpath") {
      e.linkname = v;
    } else if (k == "size") {
      if (!number(k, v, t)) return false;
      if (t.sec < 0 || t.nsec) return BadHeader(at, "bad PAX size");
      e.size = t.sec;
    } else if (k == "uid" || k == "gid" || k == "SCHILY.devmajor" || k == "SCHILY.devminor") {
      if (!number(k, v, t)) return false;
      (k == "uid" ? e.uid : k == "gid" ? e.gid : k == "SCHILY.devmajor" ? e.devmajor : e.devminor) = t.sec;
    } else if (k == "mtime") {
      if (!number(k, v, e.mtime)) return false;
    } else if (k == "atime") {
      if (!number(k, v, e.atime)) return false;
      e.hasAtime = true;
    } else if (StartsWith(k, "SCHILY.xattr.")) {
      Set(e.xattrs, k.substr(13), v);
    } else if (StartsWith(k, "LIBARCHIVE.xattr.")) {
      std::string name, value;
      if (!PercentDecode(k.substr(17), name)) return BadHeader(at, "malformed PAX extended header");
      Base64Decode(v, value);
      libarchive.emplace_back(std::move(name), std::move(value));
    } else if (StartsWith(k, "GNU.sparse.")) {
      e.type = 'S';
    }
  }
  for (auto &kv : libarchive) {
    bool have = false;
    for (const auto &x : e.xattrs) have = have || x.first == kv.first;
    if (!have) e.xattrs.push_back(std::move(kv));
  }
  return true;
}

bool TarExtractor::Parents(const std::vector<std::string> &comps, const Entry &e, bool create, std::string &out) {
  const size_t last = comps.size() - 1;
  if (last == 0) {
    out = comps[0];
    return true;
  }
  std::string parent = comps[0];
  for (size_t i = 1; i < last; i++) parent += "/" + comps[i];
  if (!dirs_.count(parent)) {
    std::string rel;
    for (size_t i = 0; i < last; i++) {
      rel = i ? rel + "/" + comps[i] : comps[i];
      if (dirs_.count(rel)) continue;
      struct stat st;
      if (fstatat(rootfd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT) return Sys("lstat", rel, errno);
        if (!create) return Escapes(e, "hard link target \"" + Shown(e.linkname) + "\" is not in the layer");
        if (mkdirat(rootfd_, rel.c_str(), 0755) < 0) return Sys("mkdir", rel, errno);
        if (fchmodat(rootfd_, rel.c_str(), 0755, 0) < 0) return Sys("chmod", rel, errno);  // whatever the umask
      } else if (S_ISLNK(st.st_mode)) {
        return Escapes(e);
      } else if (!S_ISDIR(st.st_mode)) {
        return Escapes(e, "parent \"" + Shown(rel) + "\" is not a directory");
      }
      dirs_.insert(rel);
    }
  }
  out = parent + "/" + comps[last];
  return true;
}

bool TarExtractor::RemoveTree(const std::string &rel) {
  char why[1024];
  if (rmtree_at(rootfd_, rel.c_str(), why, sizeof why) == 0) return true;
  const int errnum = errno;
  const char *name = strerrorname_np(errnum);
  const std::string code = name ? name : "E" + std::to_string(errnum);
  err_ = {true, false, code, why};
  return false;
}

// Clear `rel` for a new entry (tar's semantics: replace; a directory only by a non-directory).
bool TarExtractor::MakeRoom(const std::string &rel, bool keepDir, Room &room) {
  struct stat st;
  room = Room::None;
  if (fstatat(rootfd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? true : Sys("lstat", rel, errno);
  if (S_ISDIR(st.st_mode)) {
    if (keepDir) {
      room = Room::Dir;
      return true;
    }
    if (!RemoveTree(rel)) return false;
    dirs_.clear();
    dirs_.insert("");
    const std::string below = rel + "/";
    for (auto &m : dirMeta_) {
      if (m.live && (m.rel == rel || StartsWith(m.rel, below.c_str()))) {
        m.live = false;
        dirIndex_.erase(m.rel);
      }
    }
  } else if (unlinkat(rootfd_, rel.c_str(), 0) < 0) {
    return Sys("unlink", rel, errno);
  }
  room = Room::Removed;
  return true;
}

// Create with `make` (returns -1 with errno on failure); if something is in the way, replace it once.
template <typename F>
bool TarExtractor::Create(const std::string &rel, F make) {
  if (make() >= 0) return true;
  if (errno != EEXIST) return false;
  Room room;
  if (!MakeRoom(rel, false, room)) return false;
  return make() >= 0;
}

// lsetxattr(2) of `rel` (never followed if a symlink). The kernel takes no fd-relative name for it:
// a path past PATH_MAX goes through the parent's descriptor (/proc/self/fd/N/<name>).
int TarExtractor::LSetXattr(const std::string &rel, const std::string &key, const char *value, size_t size) {
  const std::string full = Path(rel);
  if (full.size() < 4000) return lsetxattr(full.c_str(), key.c_str(), value, size, 0);
  const size_t slash = rel.rfind('/');
  int dir = openat(rootfd_, rel.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return -1;
  const std::string viaFd = "/proc/self/fd/" + std::to_string(dir) + "/" + rel.substr(slash + 1);
  int r = lsetxattr(viaFd.c_str(), key.c_str(), value, size, 0);
  int err = errno;
  close(dir);
  errno = err;
  return r;
}

bool TarExtractor::SetXattrs(const std::string &rel, int fd, const Entry &e) {
  const Pairs &xattrs = e.xattrs;
  for (const auto &[k, v] : xattrs) {
    // overlayfs' own xattrs are not layer content: a layer must not forge redirects or origins
    if (StartsWith(k, "trusted.overlay.") || StartsWith(k, "user.overlay.")) continue;
    int r = fd >= 0 ? fsetxattr(fd, k.c_str(), v.data(), v.size(), 0) : LSetXattr(rel, k, v.data(), v.size());
    if (r < 0) {
      int err = errno;
      if (k == "security.capability" || (err != EPERM && err != ENOTSUP && err != EACCES)) return Sys("lsetxattr", rel, err);
    }
  }
  return true;
}

bool TarExtractor::DoEntry(Entry &e, uint64_t padAfter, bool &bodyFollows) {
  bodyFollows = false;
  if (e.name.find('\0') != std::string::npos || e.linkname.find('\0') != std::string::npos) return Escapes(e, "name contains a NUL byte");
  std::vector<std::string> comps;
  if (!Normalise(e.name, comps)) return Escapes(e);
  if (!PathLimits(e, comps, "path")) return false;
  if (e.linkname.size() > kMaxPath) return Escapes(e, "link target is " + std::to_string(e.linkname.size()) + " bytes long, longer than PATH_MAX allows (" + std::to_string(kMaxPath) + ")");
  char type = e.type;
  if (type == '0' && !e.name.empty() && e.name.back() == '/') type = '5';  // old (v7) archives mark directories so
  if (comps.empty()) {
    if (type == '5' || type == 'D') return true;  // the root itself: the target's own metadata stays
    return Escapes(e, "entry names the layer root");
  }
  const size_t last = comps.size() - 1;
  for (size_t i = 0; i < comps.size(); i++) {
    if (!StartsWith(comps[i], ".wh..wh.") || (i == last && comps[i] == ".wh..wh..opq")) continue;
    // aufs metadata (.wh..wh.plnk, .wh..wh.aufs, .wh..wh.orph) is not layer content. Files in the
    // top-level .wh..wh.plnk may be hard-link targets of later entries: kept until the end.
    if (comps.size() == 2 && comps[0] == kPlnk && (type == '0' || type == '7')) {
      if (!plnk_) {
        if (mkdirat(rootfd_, kPlnk.c_str(), 0700) < 0) return Sys("mkdir", kPlnk, errno);
        plnk_ = true;
        dirs_.insert(kPlnk);
      }
      bodyFollows = true;
      return OpenFile(kPlnk + "/" + comps[1], e, padAfter, false);
    }
    return true;
  }

  const std::string &base = comps[last];
  std::string rel;
  if (StartsWith(base, ".wh.")) {
    if (base == ".wh..wh..opq") {
      if (!Parents(comps, e, true, rel)) return false;  // creates the directory itself if the archive has not yet
      std::string dirRel;
      for (size_t i = 0; i < last; i++) dirRel += (i ? "/" : "") + comps[i];
      const std::string key = opts_.overlayPrefix + "opaque";
      if (LSetXattr(dirRel, key, "y", 1) < 0) return Sys("lsetxattr", dirRel, errno);
      return true;
    }
    const std::string victim = base.substr(4);
    if (victim.empty() || victim == "." || victim == "..") return Escapes(e, "invalid whiteout name");
    comps[last] = victim;
    if (!Parents(comps, e, true, rel)) return false;
    Room room;
    if (!MakeRoom(rel, false, room)) return false;
    if (mknodat(rootfd_, rel.c_str(), S_IFCHR, makedev(0, 0)) < 0) {
      if (errno == EPERM) {
        err_ = {true, true, "ERUNTIME", "layer" + Label() + ": cannot create the whiteout for \"" + Shown(e.name) + "\" (a 0:0 character device): not permitted; rootless extraction needs Linux 5.8 or later"};
        return false;
      }
      return Sys("mknod", rel, errno);
    }
    if (Chowns(e) && fchownat(rootfd_, rel.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0) return Sys("lchown", rel, errno);
    // the entry's times, so that packing the diff again (store/tarball.ts) gives the same whiteout
    const struct timespec ts[2] = {{e.atime.sec, e.atime.nsec}, {e.mtime.sec, e.mtime.nsec}};
    if (utimensat(rootfd_, rel.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) return Sys("utime", rel, errno);
    return true;
  }

  switch (type) {
    case '1':
      return HardLink(e, comps);
    case '2': {
      if (!Parents(comps, e, true, rel)) return false;
      if (!Create(rel, [&] { return symlinkat(e.linkname.c_str(), rootfd_, rel.c_str()); })) return err_.set ? false : Sys("symlink", rel, errno);
      if (Chowns(e) && fchownat(rootfd_, rel.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0) return Sys("lchown", rel, errno);
      if (!e.xattrs.empty() && !SetXattrs(rel, -1, e)) return false;
      const struct timespec ts[2] = {{e.atime.sec, e.atime.nsec}, {e.mtime.sec, e.mtime.nsec}};
      if (utimensat(rootfd_, rel.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) return Sys("lutime", rel, errno);
      return true;
    }
    case '3':
    case '4':
    case '6': {
      if (!Parents(comps, e, true, rel)) return false;
      const mode_t kind = type == '3' ? S_IFCHR : type == '4' ? S_IFBLK : S_IFIFO;
      Room room;
      if (!MakeRoom(rel, false, room)) return false;
      if (mknodat(rootfd_, rel.c_str(), kind | (e.mode & 0777), makedev(e.devmajor, e.devminor)) < 0) {
        if (errno == EPERM && type != '6') {
          skippedDevices_++;  // device nodes cannot be made in a user namespace: skipped as rootless podman does
          return true;
        }
        return Sys("mknod", rel, errno);
      }
      if (Chowns(e) && fchownat(rootfd_, rel.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0) return Sys("lchown", rel, errno);
      if (!e.xattrs.empty() && !SetXattrs(rel, -1, e)) return false;
      if (fchmodat(rootfd_, rel.c_str(), e.mode, 0) < 0) return Sys("chmod", rel, errno);
      const struct timespec ts[2] = {{e.atime.sec, e.atime.nsec}, {e.mtime.sec, e.mtime.nsec}};
      if (utimensat(rootfd_, rel.c_str(), ts, 0) < 0) return Sys("utime", rel, errno);
      return true;
    }
    case '5':
    case 'D':  // GNU incremental dump directory: its data (a listing) is skipped
      return Parents(comps, e, true, rel) && Directory(rel, e);
    case 'S':
      return Escapes(e, "GNU sparse files are not supported in layers");
    case 'M':
      return Escapes(e, "multi-volume archives are not supported");
    case 'V':
      return true;  // volume label
    default:
      // '0', '7' and, as POSIX says, any unknown type: a regular file
      if (!Parents(comps, e, true, rel)) return false;
      bodyFollows = true;
      return OpenFile(rel, e, padAfter, true);
  }
}

bool TarExtractor::Directory(const std::string &rel, const Entry &e) {
  bool made = true;
  if (mkdirat(rootfd_, rel.c_str(), 0700) < 0) {
    if (errno != EEXIST) return Sys("mkdir", rel, errno);
    Room room;
    if (!MakeRoom(rel, true, room)) return false;
    if (room != Room::Dir) {
      if (mkdirat(rootfd_, rel.c_str(), 0700) < 0) return Sys("mkdir", rel, errno);
    } else {
      made = false;  // an earlier entry's directory: it may have another owner
    }
  }
  dirs_.insert(rel);
  if ((made ? Chowns(e) : opts_.chown) && fchownat(rootfd_, rel.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0) return Sys("lchown", rel, errno);
  if (!e.xattrs.empty() && !SetXattrs(rel, -1, e)) return false;
  auto it = dirIndex_.find(rel);
  if (it != dirIndex_.end()) {
    DirMeta &m = dirMeta_[it->second];
    m.mode = e.mode;
    m.atime = e.atime;
    m.mtime = e.mtime;
  } else {
    dirIndex_.emplace(rel, dirMeta_.size());
    dirMeta_.push_back({rel, e.mode, e.atime, e.mtime, true});
  }
  return true;
}

bool TarExtractor::HardLink(const Entry &e, const std::vector<std::string> &comps) {
  std::vector<std::string> lc;
  if (!Normalise(e.linkname, lc) || lc.empty()) return Escapes(e, "hard link target escapes the layer root");
  if (!PathLimits(e, lc, "hard link target")) return false;
  if (StartsWith(lc[0], ".wh..wh.") && !(plnk_ && lc[0] == kPlnk && lc.size() == 2)) {
    return Escapes(e, "hard link target \"" + Shown(e.linkname) + "\" is not in the layer");
  }
  std::string fromRel, rel;
  if (!Parents(lc, e, false, fromRel)) return false;
  struct stat st;
  if (fstatat(rootfd_, fromRel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return Escapes(e, "hard link target \"" + Shown(e.linkname) + "\" is not in the layer");
    return Sys("lstat", fromRel, errno);
  }
  if (S_ISDIR(st.st_mode)) return Escapes(e, "hard link target \"" + Shown(e.linkname) + "\" is a directory");
  if (!Parents(comps, e, true, rel)) return false;
  if (rel == fromRel) return true;  // a link to itself
  // linkat without AT_SYMLINK_FOLLOW links a symlink `from` itself, never what it points to
  if (!Create(rel, [&] { return linkat(rootfd_, fromRel.c_str(), rootfd_, rel.c_str(), 0); })) return err_.set ? false : Sys("link", rel, errno);
  return true;
}

bool TarExtractor::OpenFile(const std::string &rel, const Entry &e, uint64_t padAfter, bool counted) {
  int fd = -1;
  if (!Create(rel, [&] { return fd = openat(rootfd_, rel.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600); })) {
    return err_.set ? false : Sys("open", rel, errno);
  }
  fd_ = fd;
  fileRel_ = rel;
  fileEntry_ = e;
  if (counted) size_ += static_cast<uint64_t>(e.size);
  padAfter_ = padAfter;
  bodyLeft_ = static_cast<uint64_t>(e.size);
  if (e.size == 0) return FinishFile();
  state_ = State::Body;
  return true;
}

bool TarExtractor::WriteBody(const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Sys("write", fileRel_, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool TarExtractor::FinishFile() {
  const Entry &e = fileEntry_;
  bool ok = true;
  if (Chowns(e) && fchown(fd_, e.uid, e.gid) < 0) ok = Sys("fchown", fileRel_, errno);
  if (ok && !e.xattrs.empty()) ok = SetXattrs(fileRel_, fd_, e);
  if (ok && fchmod(fd_, e.mode) < 0) ok = Sys("fchmod", fileRel_, errno);
  const struct timespec ts[2] = {{e.atime.sec, e.atime.nsec}, {e.mtime.sec, e.mtime.nsec}};
  if (ok && futimens(fd_, ts) < 0) ok = Sys("futime", fileRel_, errno);
  if (close(fd_) < 0 && ok) ok = Sys("close", fileRel_, errno);
  fd_ = -1;
  if (ok) Skip(padAfter_);
  return ok;
}

// Directory modes and times, last: creating their children changed them.
bool TarExtractor::FinishDirs() {
  if (plnk_ && !RemoveTree(kPlnk)) return false;
  // deepest (latest) first, so a parent's mode cannot stand in the way of its children
  for (auto it = dirMeta_.rbegin(); it != dirMeta_.rend(); ++it) {
    if (!it->live) continue;
    if (fchmodat(rootfd_, it->rel.c_str(), it->mode, 0) < 0) return Sys("chmod", it->rel, errno);
    const struct timespec ts[2] = {{it->atime.sec, it->atime.nsec}, {it->mtime.sec, it->mtime.nsec}};
    if (utimensat(rootfd_, it->rel.c_str(), ts, 0) < 0) return Sys("utime", it->rel, errno);
  }
  return true;
}

}  // namespace skiff
