// Splits one CSV record into fields. Shared by the sniffer (which tries candidate
// dialects on a sample) and the reader (the hot loop), so both read a file the same way.
// Private to the table module. Stateless functions; thread-safe.
#ifndef MLOOP_TABLE_INTERNAL_CSV_TOKENIZER_H_
#define MLOOP_TABLE_INTERNAL_CSV_TOKENIZER_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
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
      __m128i hit = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v, delim_), _mm_cmpeq_epi8(v, nl_)),
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
      const char* nl =
          static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
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
      const char* nl =
          static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (nl == nullptr) return end;
      p = nl + 1;
      ++*lines;
    } else {
      break;
    }
  }
  return p;
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
