// Splits CSV records into fields, and counts the bytes that bound records. Shared by the
// sniffer (which tries candidate dialects on a sample) and the reader (the hot loop), so
// both read a file the same way. Private to the table module. The functions and the
// byte tables are thread-safe; a StopScanner belongs to one thread.
#ifndef MLOOP_TABLE_INTERNAL_CSV_TOKENIZER_H_
#define MLOOP_TABLE_INTERNAL_CSV_TOKENIZER_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MLOOP_HAVE_X86_SIMD_PATHS 1
#endif

namespace mloop::table::internal {

struct TokenizerDialect {
  char delimiter = ',';
  char quote = '"';  // '\0': no quoting.
  bool skip_initial_space = false;
};

// A field's text inside the record. For a quoted field the text is between the quotes,
// and `escaped` says it still holds doubled quotes to collapse (see Unescape).
struct FieldRef {
  const char* ptr;
  size_t len;
  bool quoted;
  bool escaped;
  std::string_view view() const { return {ptr, len}; }
};

enum class RecordStatus {
  kOk,
  kUnterminatedQuote,  // A quoted field runs to the end of the input.
  kJunkAfterQuote,     // Text between a closing quote and the next delimiter.
};

struct RecordInfo {
  const char* next;         // Where the next record starts.
  const char* content_end;  // End of the record's text, before its line end.
  int64_t newlines;         // '\n' bytes consumed, the line end included.
  RecordStatus status;
  size_t bad_field;  // For kJunkAfterQuote / kUnterminatedQuote: the field's index.
};

// The fields of one record; grows, never shrinks, so the hot loop does not allocate.
class FieldList {
 public:
  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const FieldRef& operator[](size_t i) const { return data_[i]; }
  const FieldRef& back() const { return data_[size_ - 1]; }
  const FieldRef* begin() const { return data_.data(); }
  const FieldRef* end() const { return data_.data() + size_; }
  void push_back(const FieldRef& f) {
    if (size_ == data_.size()) [[unlikely]] {
      data_.resize(data_.size() * 2 + 16);
    }
    data_[size_++] = f;
  }

 private:
  std::vector<FieldRef> data_;
  size_t size_ = 0;
};

// Byte classes for the unquoted scan: 1 for the delimiter, '\n' and '\r'.
class SpecialBytes {
 public:
  explicit SpecialBytes(const TokenizerDialect& d) {
    table_.fill(0);
    table_[static_cast<uint8_t>(d.delimiter)] = 1;
    table_['\n'] = 1;
    table_['\r'] = 1;
#ifdef __SSE2__
    delim_ = _mm_set1_epi8(d.delimiter);
    nl_ = _mm_set1_epi8('\n');
    cr_ = _mm_set1_epi8('\r');
#endif
  }
  bool operator()(char c) const { return table_[static_cast<uint8_t>(c)] != 0; }

  // The first special byte in [p, end), or end. Sixteen bytes at a time with SSE2.
  const char* Find(const char* p, const char* end) const {
#ifdef __SSE2__
    while (end - p >= 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, delim_), _mm_cmpeq_epi8(v, nl_)),
                                 _mm_cmpeq_epi8(v, cr_));
      unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
      if (mask != 0) return p + __builtin_ctz(mask);
      p += 16;
    }
#endif
    while (p < end && !(*this)(*p)) ++p;
    return p;
  }

 private:
  std::array<uint8_t, 256> table_;
#ifdef __SSE2__
  __m128i delim_, nl_, cr_;
#endif
};

// The bytes that stop the split of a plain record (see SplitPlainRecord): the delimiter,
// '\n', '\r' and the quote character. Immutable; shared by the StopScanners of an input.
class StopBytes {
 public:
  // How Mask64 compares: the build targets baseline x86-64 (SSE2), and the wider
  // instructions are chosen at run time, as the CPU allows.
  enum class Simd { kBaseline, kAvx2, kAvx512 };
  // The widest this CPU runs.
  static Simd BestSimd() {
#ifdef MLOOP_HAVE_X86_SIMD_PATHS
    static const Simd best = __builtin_cpu_supports("avx512bw") ? Simd::kAvx512
                             : __builtin_cpu_supports("avx2")   ? Simd::kAvx2
                                                                : Simd::kBaseline;
    return best;
#else
    return Simd::kBaseline;
#endif
  }

  // `simd` above BestSimd() is lowered to it (tests ask for each level).
  explicit StopBytes(const TokenizerDialect& d, Simd simd = BestSimd()) {
    table_.fill(0);
    table_[static_cast<uint8_t>(d.delimiter)] = 1;
    table_['\n'] = 1;
    table_['\r'] = 1;
    // Without a quote character the delimiter stands in for it, matching nothing new.
    const char quote = d.quote == '\0' ? d.delimiter : d.quote;
    table_[static_cast<uint8_t>(quote)] = 1;
#ifdef __SSE2__
    delim_ = _mm_set1_epi8(d.delimiter);
    nl_ = _mm_set1_epi8('\n');
    cr_ = _mm_set1_epi8('\r');
    quote_ = _mm_set1_epi8(quote);
#endif
    simd_ = std::min(simd, BestSimd());
    bytes_[0] = d.delimiter;
    bytes_[1] = '\n';
    bytes_[2] = '\r';
    bytes_[3] = quote;
    // The nibble table: entry i is the stop byte whose low four bits are i, and for the
    // i no stop byte ends in, a byte that does not end in i (so that it matches nothing).
    // It classifies a byte in one shuffle and one compare when the stop bytes are ASCII
    // and differ in their low four bits, as ',', '\t', ';', '|' do with '\n', '\r', '"'.
    by_nibble_ok_ = true;
    for (size_t i = 0; i < 16; ++i) by_nibble_[i] = i == 0 ? 1 : 0;
    bool taken[16] = {};
    for (char b : bytes_) {
      const auto u = static_cast<uint8_t>(b);
      if (u >= 0x80 || (taken[u & 15] && by_nibble_[u & 15] != b)) by_nibble_ok_ = false;
      taken[u & 15] = true;
      by_nibble_[u & 15] = b;
    }
  }
  bool operator()(char c) const { return table_[static_cast<uint8_t>(c)] != 0; }

  // The instructions Mask64 uses.
  Simd simd() const { return simd_; }

  // Bit i set when p[i] stops, for the 64 bytes at p. Sets `*non_ascii` when one of the
  // bytes is not ASCII (leaves it alone otherwise). Inlined as the baseline version,
  // with a call to the wider one the CPU allows; code compiled for that target (the
  // reader's split loop has such copies, ChunkParser::RunAvx2 and RunAvx512) inlines it.
  [[gnu::always_inline]] uint64_t Mask64(const char* p, bool* non_ascii) const {
#ifdef MLOOP_HAVE_X86_SIMD_PATHS
    if (simd_ == Simd::kAvx512) return Mask64Avx512(p, non_ascii);
    if (simd_ == Simd::kAvx2) return Mask64Avx2(p, non_ascii);
#endif
#ifdef __SSE2__
    __m128i high = _mm_setzero_si128();
    const uint64_t mask = Mask16(p, &high) | Mask16(p + 16, &high) << 16 |
                          Mask16(p + 32, &high) << 32 | Mask16(p + 48, &high) << 48;
    if (_mm_movemask_epi8(high) != 0) *non_ascii = true;
    return mask;
#else
    uint64_t mask = 0;
    unsigned char any = 0;
    for (int i = 0; i < 64; ++i) {
      mask |= uint64_t{(*this)(p[i])} << i;
      any |= static_cast<unsigned char>(p[i]);
    }
    if (any >= 0x80) *non_ascii = true;
    return mask;
#endif
  }

 private:
#ifdef __SSE2__
  uint64_t Mask16(const char* p, __m128i* high) const {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    *high = _mm_or_si128(*high, v);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, delim_), _mm_cmpeq_epi8(v, nl_)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, cr_), _mm_cmpeq_epi8(v, quote_)));
    return static_cast<unsigned>(_mm_movemask_epi8(hit));
  }
#endif
#ifdef MLOOP_HAVE_X86_SIMD_PATHS
  // Mask64 in two 32-byte loads, for CPUs with AVX2: each byte is looked up in the nibble
  // table by its low four bits (a byte from 0x80 up looks up 0) and compared with what it
  // finds, two instructions per 32 bytes where four compares and three ORs were needed;
  // four compares when the table cannot tell the stop bytes apart.
  [[gnu::target("avx2")]] uint32_t Mask32Avx2(__m256i v) const {
    if (by_nibble_ok_) [[likely]] {
      const __m256i table = _mm256_broadcastsi128_si256(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(by_nibble_)));
      return static_cast<uint32_t>(
          _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_shuffle_epi8(table, v), v)));
    }
    const __m256i hit =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(bytes_[0])),
                                        _mm256_cmpeq_epi8(v, _mm256_set1_epi8(bytes_[1]))),
                        _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(bytes_[2])),
                                        _mm256_cmpeq_epi8(v, _mm256_set1_epi8(bytes_[3]))));
    return static_cast<uint32_t>(_mm256_movemask_epi8(hit));
  }
  [[gnu::target("avx2")]] uint64_t Mask64Avx2(const char* p, bool* non_ascii) const {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) != 0) *non_ascii = true;
    return Mask32Avx2(a) | uint64_t{Mask32Avx2(b)} << 32;
  }
  // Mask64 in one 64-byte load and four compares into mask registers, for CPUs with
  // AVX-512BW.
  [[gnu::target("avx512f,avx512bw")]] uint64_t Mask64Avx512(const char* p, bool* non_ascii) const {
    const __m512i v = _mm512_loadu_si512(p);
    if (_mm512_movepi8_mask(v) != 0) *non_ascii = true;
    return _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(bytes_[0])) |
           _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(bytes_[1])) |
           _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(bytes_[2])) |
           _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(bytes_[3]));
  }
#endif

  Simd simd_ = Simd::kBaseline;
  // The stop bytes: delimiter, '\n', '\r', quote.
  char bytes_[4] = {};
  // See the constructor.
  alignas(16) char by_nibble_[16] = {};
  bool by_nibble_ok_ = false;
  std::array<uint8_t, 256> table_;
#ifdef __SSE2__
  __m128i delim_, nl_, cr_, quote_;
#endif
};

// Walks the stop bytes of an input in order, a 64-byte window at a time: one round of
// SIMD compares gives a bit mask of the window's stop bytes, and each next stop byte is
// the mask's next bit, a count of trailing zeros (fields are short: a typical record's
// fields share two or three windows). Small, so that the hot loop keeps it in registers.
class StopScanner {
 public:
  // Scans [begin, end); never reads at or past `end`.
  StopScanner(const StopBytes* stops, const char* begin, const char* end)
      : stops_(stops), end_(end), refill_(begin) {}

  // Continues at p, past the byte Next last returned: forgets stop bytes before p.
  void Seek(const char* p) {
    if (p >= refill_) {
      pending_ = 0;
      refill_ = p;
    } else if (pending_ != 0 && p > window_) {
      pending_ &= ~uint64_t{0} << (p - window_);  // p is inside the window.
    }
  }

  // Counts the windows loaded so far that hold a byte that is not ASCII (and the last
  // bytes, scanned without a window), so that a reader can tell that a record whose
  // bytes all lay in clean windows is ASCII without looking at it again: the record is
  // ASCII when this count did not change while it was split and the window it started
  // in (LastWindowDirty) was clean.
  uint64_t dirty_windows() const { return dirty_windows_; }
  bool LastWindowDirty() const { return last_dirty_; }

  // The next stop byte, or end when there is none.
  [[gnu::always_inline]] const char* Next() {
    if (pending_ == 0) [[unlikely]] {
      if (const char* tail = Refill()) return tail;
    }
    const char* e = window_ + __builtin_ctzll(pending_);
    pending_ &= pending_ - 1;
    return e;
  }

 private:
  friend size_t SplitPlainRecord(const char*, const char*, const TokenizerDialect&, StopScanner*,
                                 const char**, size_t, const char**, const char**);

  // Loads the next window with stop bytes and returns nullptr; in the last bytes, too few
  // for a window, returns the next stop byte (or end) instead.
  [[gnu::always_inline]] const char* Refill() {
    while (end_ - refill_ >= 64) {
      window_ = refill_;
      bool dirty = false;
      pending_ = stops_->Mask64(window_, &dirty);
      last_dirty_ = dirty;
      dirty_windows_ += dirty;
      refill_ += 64;
      if (pending_ != 0) return nullptr;
    }
    last_dirty_ = true;  // Not looked at: as good as dirty.
    ++dirty_windows_;
    const char* p = refill_;
    while (p < end_ && !(*stops_)(*p)) ++p;
    refill_ = p < end_ ? p + 1 : end_;
    return p;
  }

  const StopBytes* stops_;
  const char* end_;
  const char* window_ = nullptr;  // The window's first byte, when pending_ != 0.
  uint64_t pending_ = 0;          // Bit i: window byte i stops and was not returned yet.
  const char* refill_;            // Where the next window starts.
  uint64_t dirty_windows_ = 0;    // See dirty_windows().
  bool last_dirty_ = false;       // The last window loaded is dirty.
};

// The fast path of ParseRecord, for the records most files are made of: no quote
// character anywhere, no carriage return except before '\n', and a line end before
// `end`. Such a record is split at its stop bytes alone (StopScanner), without looking
// at each field's first bytes: it records where each field's bytes begin, and
// PlainField skips the spaces there later, when the field is read. Returns the number of
// fields n and fills `bounds[0..n]`: field i lies in [bounds[i], bounds[i + 1] - 1).
// Sets `*content_end` and `*next` as ParseRecord's RecordInfo would be (such a record
// holds exactly one '\n', its line end).
//
// Returns 0, with `bounds` partly written, for any other record, including one with more
// than `max_fields` fields: the caller then parses it with ParseRecord. For a record both
// accept, PlainField gives exactly ParseRecord's fields. Never used when spaces are both
// skipped and the delimiter: skipping would then merge fields.
[[gnu::always_inline]] inline size_t SplitPlainRecord(const char* p, const char* end,
                                                      const TokenizerDialect& d, StopScanner* scan,
                                                      const char** bounds, size_t max_fields,
                                                      const char** content_end, const char** next) {
  if (d.skip_initial_space && d.delimiter == ' ') return 0;
  scan->Seek(p);
  // The loop works on locals, not on members read through pointers: the stores to
  // `bounds` could alias those, and the compiler would reload them for every field.
  const char delimiter = d.delimiter;
  const char* window = scan->window_;
  uint64_t pending = scan->pending_;
  size_t n = 0;
  bounds[0] = p;
  size_t fields = 0;  // The result: 0 until the record is known to be plain.
  for (;;) {
    const char* e;
    if (pending != 0) [[likely]] {
      e = window + __builtin_ctzll(pending);
      pending &= pending - 1;
    } else {
      scan->pending_ = 0;
      e = scan->Next();
      window = scan->window_;
      pending = scan->pending_;
      if (e == end) break;  // Only a refill can run out of input.
    }
    bounds[++n] = e + 1;
    const char c = *e;
    if (c == delimiter) [[likely]] {
      if (n == max_fields) break;
      continue;
    }
    if (c == '\n') {
      *content_end = e;
      *next = e + 1;
      fields = n;
      break;
    }
    // A '\r' is a line end before '\n', and otherwise data; a quote starts a quoted
    // field or is data. Either way ParseRecord's case.
    if (c == '\r' && e + 1 < end && e[1] == '\n') {
      *content_end = e;
      *next = e + 2;
      fields = n;
    }
    break;
  }
  scan->window_ = window;
  scan->pending_ = pending;
  return fields;
}

// Field i of a record SplitPlainRecord split, as ParseRecord gives it.
inline FieldRef PlainField(const char* const* bounds, size_t i, bool skip_initial_space) {
  const char* p = bounds[i];
  const char* e = bounds[i + 1] - 1;
  if (skip_initial_space) {
    // Stops at e at the latest: a field ends at a stop byte, and a space is none.
    while (*p == ' ') ++p;
  }
  return FieldRef{p, static_cast<size_t>(e - p), false, false};
}

inline int64_t CountNewlines(const char* p, const char* end) {
  int64_t n = 0;
  while (p < end) {
    const void* q = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (q == nullptr) break;
    ++n;
    p = static_cast<const char*>(q) + 1;
  }
  return n;
}

// Parses the record starting at `p` (which must not be a blank or comment line) and
// fills `fields`. Never reads at or past `end`.
inline RecordInfo ParseRecord(const char* p, const char* end, const TokenizerDialect& d,
                              const SpecialBytes& special, FieldList* fields) {
  fields->clear();
  RecordInfo info{end, end, 0, RecordStatus::kOk, 0};
  const char quote = d.quote;
  const char delim = d.delimiter;
  for (;;) {
    if (d.skip_initial_space) {
      while (p < end && *p == ' ') ++p;
    }
    if (quote != '\0' && p < end && *p == quote) {
      const char* s = ++p;
      bool escaped = false;
      for (;;) {
        const char* q =
            static_cast<const char*>(std::memchr(p, quote, static_cast<size_t>(end - p)));
        if (q == nullptr) {
          fields->push_back({s, static_cast<size_t>(end - s), true, escaped});
          info.newlines += CountNewlines(s, end);
          info.status = RecordStatus::kUnterminatedQuote;
          info.bad_field = fields->size() - 1;
          info.next = info.content_end = end;
          return info;
        }
        if (q + 1 < end && q[1] == quote) {
          escaped = true;
          p = q + 2;
          continue;
        }
        fields->push_back({s, static_cast<size_t>(q - s), true, escaped});
        info.newlines += CountNewlines(s, q);
        p = q + 1;
        break;
      }
      while (p < end && *p == ' ') ++p;  // Spaces after a closing quote are allowed.
      if (p == end) {
        info.next = info.content_end = end;
        return info;
      }
      if (*p == delim) {
        ++p;
        if (p == end) {  // A trailing delimiter at the end of input: one empty field.
          fields->push_back({p, 0, false, false});
          info.next = info.content_end = end;
          return info;
        }
        continue;
      }
      if (*p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n'))) {
        info.content_end = p;
        if (*p == '\r') ++p;
        if (p < end) {
          ++p;
          ++info.newlines;
        }
        info.next = p;
        return info;
      }
      // Junk after the closing quote: the record is malformed; resynchronise at the
      // next line end.
      info.status = RecordStatus::kJunkAfterQuote;
      info.bad_field = fields->size() - 1;
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (nl == nullptr) {
        info.next = info.content_end = end;
      } else {
        info.content_end = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
        info.next = nl + 1;
        ++info.newlines;
      }
      return info;
    }
    const char* s = p;
    for (;;) {
      p = special.Find(p, end);
      if (p < end && *p == '\r' && !(p + 1 == end || p[1] == '\n')) {
        ++p;  // A lone carriage return is data.
        continue;
      }
      break;
    }
    fields->push_back({s, static_cast<size_t>(p - s), false, false});
    if (p == end) {
      info.next = info.content_end = end;
      return info;
    }
    if (*p == delim) {
      ++p;
      if (p == end) {
        fields->push_back({p, 0, false, false});
        info.next = info.content_end = end;
        return info;
      }
      continue;
    }
    info.content_end = p;
    if (*p == '\r') ++p;
    if (p < end) {
      ++p;
      ++info.newlines;
    }
    info.next = p;
    return info;
  }
}

// Collapses doubled quotes in a quoted field's text.
inline void Unescape(std::string_view text, char quote, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    out->push_back(text[i]);
    if (text[i] == quote && i + 1 < text.size() && text[i + 1] == quote) ++i;
  }
}

// Skips blank lines and comment lines at `p`; adds the '\n's it passes to `*lines`.
inline const char* SkipBlankAndComments(const char* p, const char* end, char comment,
                                        int64_t* lines) {
  while (p < end) {
    if (*p == '\n') {
      ++p;
      ++*lines;
    } else if (*p == '\r' && p + 1 < end && p[1] == '\n') {
      p += 2;
      ++*lines;
    } else if (*p == '\r' && p + 1 == end) {
      ++p;
    } else if (comment != '\0' && *p == comment) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (nl == nullptr) return end;
      p = nl + 1;
      ++*lines;
    } else {
      break;
    }
  }
  return p;
}

// True when [p, end) is all ASCII, the usual case, which needs no UTF-8 decoding.
inline bool IsAscii(const char* p, const char* end) {
#ifdef __SSE2__
  if (end - p >= 16) {
    // OR the bytes together 16 at a time; the last load overlaps bytes already seen
    // rather than finishing byte by byte.
    __m128i any = _mm_setzero_si128();
    for (const char* last = end - 16; p < last; p += 16) {
      any = _mm_or_si128(any, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
    any = _mm_or_si128(any, _mm_loadu_si128(reinterpret_cast<const __m128i*>(end - 16)));
    return _mm_movemask_epi8(any) == 0;
  }
#endif
  unsigned char any = 0;
  for (; p < end; ++p) any |= static_cast<unsigned char>(*p);
  return any < 0x80;
}

// How many quotes and line ends a stretch of input holds: what the reader needs to cut
// the input into chunks at record boundaries and to size its buffers before parsing.
struct ByteCounts {
  int64_t quotes = 0;    // The quote character (0 when there is none).
  int64_t newlines = 0;  // '\n' bytes.
  // '\n' bytes not directly after another '\n'. Every record ends at one of these (its
  // line end follows the record's last byte, never a blank line's) or at the end of the
  // input, so they bound the number of records from above.
  int64_t line_ends = 0;

  ByteCounts& operator+=(const ByteCounts& o) {
    quotes += o.quotes;
    newlines += o.newlines;
    line_ends += o.line_ends;
    return *this;
  }
  friend ByteCounts operator+(ByteCounts a, const ByteCounts& b) { return a += b; }
};

// CountBytes, written for one vector width. Each match compares to 0xFF (-1), so
// subtracting it adds one to its byte's counter; at most 255 rounds run before the
// counters are summed, so none overflows. p[-1] must be readable.
#define MLOOP_COUNT_BYTES_BODY(Vec, Load, Set1, Zero, Eq, Sub, AndNot, Sad, kWidth, Sum) \
  const Vec nl = Set1('\n');                                                             \
  const Vec q = Set1(quote);                                                             \
  while (end - p >= kWidth) {                                                            \
    Vec newlines = Zero(), line_ends = Zero(), quotes = Zero();                          \
    const size_t rounds = std::min<size_t>(static_cast<size_t>(end - p) / kWidth, 255);  \
    for (size_t i = 0; i < rounds; ++i, p += kWidth) {                                   \
      const Vec v = Load(reinterpret_cast<const Vec*>(p));                               \
      const Vec prev = Load(reinterpret_cast<const Vec*>(p - 1));                        \
      const Vec is_nl = Eq(v, nl);                                                       \
      newlines = Sub(newlines, is_nl);                                                   \
      line_ends = Sub(line_ends, AndNot(Eq(prev, nl), is_nl));                           \
      quotes = Sub(quotes, Eq(v, q));                                                    \
    }                                                                                    \
    c->newlines += Sum(Sad(newlines, Zero()));                                           \
    c->line_ends += Sum(Sad(line_ends, Zero()));                                         \
    c->quotes += Sum(Sad(quotes, Zero()));                                               \
  }                                                                                      \
  return p;

#ifdef __SSE2__
// Adds the 64-bit sums _mm_sad_epu8 leaves.
inline int64_t SumSse2(__m128i s) {
  uint64_t sums[2];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(sums), s);
  return static_cast<int64_t>(sums[0] + sums[1]);
}

// Counts whole 16-byte blocks from p into *c; returns where it stopped.
inline const char* CountBytesSse2(const char* p, const char* end, char quote, ByteCounts* c) {
  MLOOP_COUNT_BYTES_BODY(__m128i, _mm_loadu_si128, _mm_set1_epi8, _mm_setzero_si128, _mm_cmpeq_epi8,
                         _mm_sub_epi8, _mm_andnot_si128, _mm_sad_epu8, 16, SumSse2)
}
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MLOOP_HAVE_AVX2_PATH 1
// The same, 32 bytes at a time, for CPUs with AVX2 (chosen at run time; the build
// targets baseline x86-64).
[[gnu::target("avx2")]] inline int64_t SumAvx2(__m256i s) {
  return _mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 1) + _mm256_extract_epi64(s, 2) +
         _mm256_extract_epi64(s, 3);
}

[[gnu::target("avx2")]] inline const char* CountBytesAvx2(const char* p, const char* end,
                                                          char quote, ByteCounts* c) {
  MLOOP_COUNT_BYTES_BODY(__m256i, _mm256_loadu_si256, _mm256_set1_epi8, _mm256_setzero_si256,
                         _mm256_cmpeq_epi8, _mm256_sub_epi8, _mm256_andnot_si256, _mm256_sad_epu8,
                         32, SumAvx2)
}
#endif
#undef MLOOP_COUNT_BYTES_BODY

// Counts [p, end). `before` is the byte before p: '\n' when p starts a line.
inline ByteCounts CountBytes(const char* p, const char* end, char before, char quote) {
  ByteCounts c;
  auto one = [&](char ch) {
    if (ch == '\n') {
      ++c.newlines;
      c.line_ends += before != '\n';
    }
    c.quotes += ch == quote;
    before = ch;
  };
  if (p < end) one(*p++);  // From here on p[-1] is readable.
  const char* const start = p;
#ifdef MLOOP_HAVE_AVX2_PATH
  static const bool kAvx2 = __builtin_cpu_supports("avx2");
  if (kAvx2) p = CountBytesAvx2(p, end, quote, &c);
#endif
#ifdef __SSE2__
  p = CountBytesSse2(p, end, quote, &c);
#endif
  if (p != start) before = p[-1];
  while (p < end) one(*p++);
  if (quote == '\0') c.quotes = 0;  // The loops counted NUL bytes.
  return c;
}

// True when [p, end) is valid UTF-8. ASCII runs are checked eight bytes at a time.
inline bool IsValidUtf8(const char* p, const char* end) {
  const auto* s = reinterpret_cast<const uint8_t*>(p);
  const auto* e = reinterpret_cast<const uint8_t*>(end);
  while (s < e) {
#ifdef __SSE2__
    if (e - s >= 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
      if (_mm_movemask_epi8(v) == 0) {
        s += 16;
        continue;
      }
    }
#endif
    if (e - s >= 8) {
      uint64_t w;
      std::memcpy(&w, s, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        s += 8;
        continue;
      }
    }
    uint8_t c = *s;
    if (c < 0x80) {
      ++s;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (e - s <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((s[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i] & 0x3F);
    }
    // Overlong encodings, surrogates and values past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    s += n + 1;
  }
  return true;
}

}  // namespace mloop::table::internal

#endif  // MLOOP_TABLE_INTERNAL_CSV_TOKENIZER_H_
