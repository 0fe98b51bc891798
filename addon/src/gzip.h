// Gzip decompression with ISA-L's igzip, as `gzip -d` and node's gunzip read it: header, trailer
// CRC-32 and size checked, several members in a row; data after a member that is not another
// member is an error, as in node's zlib and Go's gzip reader. Shared by the Inflater (output
// handed to JS) and the layer pipeline (output extracted in place).
#pragma once
#include <isa-l/igzip_lib.h>
#include <cstddef>
#include <cstdint>

namespace skiff {

inline const char *InflateError(int r) {
  switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid block type";
    case ISAL_INVALID_SYMBOL: return "invalid code";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
    case ISAL_NEED_DICT: return "a preset dictionary is needed";
    default: return "invalid data";
  }
}

struct GzipState {
  inflate_state st;
  bool inMember = false;  // a member has started and not yet ended
  bool afterMember = false;  // a member ended: what follows must be another member
  unsigned char carry = 0;  // a lone 0x1f at the end of a chunk, right after a member
  bool hasCarry = false;
  GzipState() { Reset(); }
  void Reset() {
    isal_inflate_init(&st);
    st.crc_flag = ISAL_GZIP;
  }
  // the input ended inside a member
  bool Truncated() const { return inMember || hasCarry; }
};

// What a sink returns from Put: false stops inflation (the sink keeps its own error).
constexpr const char *kSinkStopped = "";

// Inflate `in` into blocks from `sink.Block(&cap)`, each handed to `sink.Put(block, produced)`
// (produced may be 0); returns nullptr, an inflate error text, or kSinkStopped.
template <typename Sink>
const char *GunzipInto(GzipState &s, const unsigned char *in, size_t n, Sink &sink) {
  if (s.hasCarry) {
    // the magic was split across chunks: decide with the first byte of this one
    s.hasCarry = false;
    if (n == 0) return nullptr;
    if (in[0] != 0x8b) return InflateError(ISAL_INVALID_WRAPPER);
    const unsigned char two[2] = {s.carry, in[0]};
    s.Reset();
    s.afterMember = false;
    s.inMember = true;
    const char *e = GunzipInto(s, two, 2, sink);
    if (e) return e;
    in++;
    n--;
  }
  while (n > 0) {
    if (s.afterMember) {
      if (n == 1 && in[0] == 0x1f) {
        s.carry = in[0];
        s.hasCarry = true;
        return nullptr;
      }
      if (in[0] != 0x1f || in[1] != 0x8b) return InflateError(ISAL_INVALID_WRAPPER);
      s.Reset();
      s.afterMember = false;
    }
    s.inMember = true;
    s.st.next_in = const_cast<unsigned char *>(in);
    s.st.avail_in = static_cast<uint32_t>(n);
    for (;;) {
      size_t cap = 0;
      unsigned char *block = sink.Block(&cap);
      if (!block) return "out of memory";
      s.st.next_out = block;
      s.st.avail_out = static_cast<uint32_t>(cap);
      int r = isal_inflate(&s.st);
      if (!sink.Put(block, cap - s.st.avail_out)) return kSinkStopped;
      if (r < 0 || r == ISAL_NEED_DICT) return InflateError(r);
      if (s.st.block_state == ISAL_BLOCK_FINISH) {
        s.inMember = false;
        s.afterMember = true;
        break;
      }
      if (s.st.avail_in == 0 && s.st.avail_out > 0) break;  // all input taken, all output flushed
    }
    size_t used = n - s.st.avail_in;
    in += used;
    n -= used;
  }
  return nullptr;
}

}  // namespace skiff
