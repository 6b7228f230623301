#include "table/csv_reader.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>

#include "core/error.h"
#include "core/file.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "table/csv_sniffer.h"
#include "table/internal/csv_tokenizer.h"
#include "table/internal/input.h"
#include "table/internal/null_matcher.h"
#include "table/internal/string_dictionary.h"
#include "table/internal/value_parse.h"

// How a file is read:
//
// 1. The pool's threads count the input's quotes and line ends (PieceCounts) while the
//    calling thread sniffs the dialect and the column types. PlanChunks then cuts the
//    data rows into chunks at record boundaries; each chunk's line ends bound its number
//    of rows. So before parsing, every chunk knows where its rows go in the final column
//    buffers (AllocateBuffers), and writes them there: nothing is concatenated at the end.
// 2. ChunkParser parses a chunk a batch of up to 64 records at a time. First each record
//    is split into fields (SplitPlainRecord for plain records, ParseRecord for the rest)
//    and checked; then each column converts the batch's fields in a loop specialised to
//    its type (DecodeColumn), which keeps the per-field work free of type dispatch.
// 3. With category columns, chunk 0 is small and parsed first: its dictionaries seed the
//    other chunks', so their codes already agree with the final dictionary.
// 4. FinishColumn closes the gaps chunks left below their row bound, merges the category
//    dictionaries and assembles the validity bitmaps, one column per task.
//
// Integer (int64, date) and category columns are written narrow, as Column stores them:
// int32 values and one-byte codes. A chunk meeting a value outside int32, or whose
// dictionary may pass 256 entries, goes over to full-width buffers of its own, and
// FinishColumn widens the column once when the file needs it. On the bench file the
// buffers take 23 MB instead of 58, and the line numbers, kept as runs, none instead of
// 5.5 MB (ingest: peak RSS 105 -> 68 MB, about 8 ms less kernel time, as the kernel zeroes
// fewer fresh pages).
//
// When a chunk does not end where the next begins (a boundary fell inside a quoted
// field), everything is parsed again sequentially; when an inferred type turns out too
// narrow, everything is parsed again with the wider type.
//
// ReadCsv maps a file larger than CsvOptions::chunk_bytes without reading it in, and
// releases each piece's pages once counted and each chunk's once parsed (ReleaseText), so
// that only the stretches being worked on are in memory; a second pass reads them again.
// The pieces in the first chunk_bytes are kept from counting to parsing instead: the
// parse starts with them, and dropping pages only to read them in again costs kernel time
// (8 ms of CPU per pass over the 83 MB bench file). Keeping them adds at most chunk_bytes
// of text to the peak memory (on the bench file, ingest: 4 ms less CPU, peak RSS 94 ->
// 105 MB).

namespace mloop::table {

const std::vector<std::string> kDefaultNullValues = {"",    "NA",  "N/A",  "NULL", "null",
                                                     "NaN", "nan", "None", "?"};

namespace {

using internal::FieldRef;

// Records per batch: one validity word per column, and the batch's fields stay in the L1
// cache between splitting and decoding.
constexpr size_t kBatchRows = 64;

// Bytes that may be read past a field's start when the input goes on that far: enough
// for the widest load of a field's head (StringHead) or digits (ParseInt64).
constexpr size_t kPadding = internal::StringHead::kBytes;

// The size of chunk 0, which seeds the others' dictionaries when there are category
// columns: it is parsed alone, so it is kept small, yet large enough to meet most values
// of a typical category column.
constexpr size_t kSeedChunkBytes = size_t{256} << 10;

// A buffer of AllocateBuffers: its first byte and size.
struct BufferSpan {
  const void* data;
  size_t bytes;
};

// Tells the kernel to back the buffers, reserved and not yet touched, with transparent
// huge pages. The reader fills tens of megabytes of fresh memory per call, and faulting
// it in 4 KiB at a time can cost as much as parsing it (57 MB: 30-45 ms in 4 KiB pages
// against 6 ms in 2 MiB ones, measured on the bench machine; TLB misses also slow the
// parse). Advice only: it changes how the memory is backed, not its contents, and a
// kernel that declines is no error.
//
// The allocator places large buffers side by side (consecutive mmaps, or chunks of the
// heap), so the advice covers each buffer's whole pages, not only the 2 MiB pages inside
// it: the 2 MiB pages that straddle two buffers then qualify too. Two things keep those
// from being faulted in whole, and are handled here:
// - Advice given between two reservations makes the first mapping differ from the next
//   one mmap places beside it, so the kernel keeps them as two areas, which no huge page
//   may straddle: all buffers are advised only once all are reserved.
// - The 2 MiB page at each end of a buffer holds bytes the allocator already wrote (its
//   chunk headers), so it is mapped in 4 KiB pages, which no later fault turns into a
//   huge page: MADV_COLLAPSE (Linux 6.1+) does, and only where the whole 2 MiB page lies
//   in advised memory, ours. It copies the few bytes written.
// On the bench file, when its buffers took 63 MB, 24-28 MB were in huge pages with interior-only
// advice, and 54-59 MB are now: ingest took about 7 ms less CPU (most of it kernel time), at the
// same peak RSS.
// Buffers under 2 MiB are advised too: they hold no 2 MiB page of their own, but advising
// them keeps the buffers one area with their neighbours, whose shared 2 MiB pages then
// qualify. With one-byte category codes (683 KB each on the bench file) left out, the
// 23 MB table was split into areas and 6 MB of it was in huge pages; with them, 20 MB, and
// the process's exit (freeing what is left in 4 KiB pages) took 3.5 ms instead of 4.7.
void AdviseHugePages(const std::vector<BufferSpan>& spans) {
#ifdef MADV_HUGEPAGE
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  for (const BufferSpan& s : spans) {
    const uintptr_t begin = reinterpret_cast<uintptr_t>(s.data) & ~(page - 1);
    const uintptr_t end = (reinterpret_cast<uintptr_t>(s.data) + s.bytes + page - 1) & ~(page - 1);
    (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
  // The value Linux gives it, for C libraries whose headers predate it.
  constexpr int kMadvCollapse = 25;
  for (const BufferSpan& s : spans) {
    const uintptr_t first = reinterpret_cast<uintptr_t>(s.data) & ~(kHugePage - 1);
    const uintptr_t last = (reinterpret_cast<uintptr_t>(s.data) + s.bytes - 1) & ~(kHugePage - 1);
    // Advice only: where the 2 MiB page is not all ours, or the kernel is older, the
    // call fails and the page stays in 4 KiB pages.
    (void)::madvise(reinterpret_cast<void*>(first), kHugePage, kMadvCollapse);
    if (last != first) (void)::madvise(reinterpret_cast<void*>(last), kHugePage, kMadvCollapse);
  }
#else
  (void)spans;
#endif
}

// Drops the whole pages of [begin, end) from memory when the text is `file`'s mapping (a
// large file read without holding it whole); they are read again if touched. No-op for
// `file` null.
void ReleaseText(const MappedFile* file, const char* begin, const char* end) {
  if (file == nullptr || end <= begin) return;
  const char* base = file->view().data();
  file->Release(static_cast<size_t>(begin - base), static_cast<size_t>(end - begin));
}

// Runs fn(i) for i in [0, n): on the default pool, or in this thread when the caller
// asked for a sequential read (`threads` 1).
void ForEach(size_t n, size_t threads, const std::function<void(size_t)>& fn) {
  if (threads == 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
  } else {
    ThreadPool::Default().ParallelFor(n, fn);
  }
}

// Room for `n` values, noted in `spans` for AdviseHugePages.
template <typename T>
void Reserve(std::vector<T>* v, size_t n, std::vector<BufferSpan>* spans) {
  v->reserve(n);
  spans->push_back({v->data(), n * sizeof(T)});
}

// Sizes `v`, reserved by Reserve, to `n` zero values. The whole pages the values will
// take are first faulted in by one madvise(MADV_POPULATE_WRITE) call: taking the same
// pages one fault at a time, as the zero-fill would, costs more kernel time per page
// (4 KiB ones most of all; about 5 ms of CPU for 63 MB of buffers). It changes
// no value: the zero-fill still writes every one. A kernel without MADV_POPULATE_WRITE
// (before 5.14) answers EINVAL, and the zero-fill faults the pages in as before.
template <typename T>
void Resize(std::vector<T>* v, size_t n) {
#ifdef MADV_POPULATE_WRITE
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(v->data()) + page - 1) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(v->data() + n) & ~(page - 1);
  if (n <= v->capacity() && end > begin) {
    // Advice only: on failure the zero-fill below faults the pages in.
    (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
  }
#endif
  v->resize(n);
}

// The final buffers of one column, sized to the bound on the number of rows. Chunk i
// writes only its own rows [row_begin, row_begin + row_capacity), so chunks parse in
// parallel without sharing a byte.
struct ColumnBuffers {
  // int64, date: one int32 each (Column's narrow storage: the bench file's 6 int64 columns
  // take 16 MB instead of 33), unless the chunk keeps its own (ChunkColumn::ints64).
  std::vector<int32_t> ints;
  std::vector<int64_t> timestamps;  // Microseconds, which rarely fit 32 bits.
  std::vector<double> doubles;
  std::vector<uint8_t> bools;
  // category: codes into the chunk's dictionary, one byte each (Column's narrow storage:
  // the bench file's 9 category columns take 6 MB instead of 25), unless the chunk keeps
  // its own (ChunkColumn::codes32).
  std::vector<uint8_t> codes;
  // string: offsets[row + 1] is the end of the row's text in its chunk's chars.
  std::vector<uint64_t> offsets;
};

// Validity bits of one column of one chunk, appended a batch at a time.
class ValidityBits {
 public:
  // Appends the low `n` bits of `bits` (n <= 64; the bits above must be 0).
  void Append(uint64_t bits, size_t n) {
    if (n == 0) return;
    const size_t shift = size_ & 63;
    if (shift == 0) {
      words_.push_back(bits);
    } else {
      words_.back() |= bits << shift;
      if (shift + n > 64) words_.push_back(bits >> (64 - shift));
    }
    size_ += n;
  }
  Bitmap Take() { return Bitmap::FromWords(std::move(words_), size_); }

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

// What one chunk has for one column besides the values in ColumnBuffers.
struct ChunkColumn {
  ValidityBits validity;
  std::string chars;                // string: the text of the chunk's values.
  internal::StringDictionary dict;  // category.
  size_t seeded = 0;                // category: codes below this are chunk 0's.
  // category: the chunk's codes at full width, its rows from the chunk's first on, once a
  // batch could take its dictionary past 256 entries (rare); the column buffer's rows of
  // the chunk are then not used. FinishCategory joins the two kinds.
  std::vector<int32_t> codes32;
  // int64, date: the chunk's values at full width, its rows from the chunk's first on, once
  // one did not fit int32 (rare); the column buffer's rows of the chunk are then not used.
  std::vector<int64_t> ints64;
  // category: the dictionary's first marker_checked values were checked for null markers,
  // and holds_marker says whether one is.
  size_t marker_checked = 0;
  bool holds_marker = false;
  // Set when the type was inferred and a value needed a wider one.
  bool widen = false;
  DataType widen_to = DataType::kString;
};

// A stretch of the data rows parsed by one task: the plan, then the results.
struct Chunk {
  const char* begin = nullptr;
  const char* end = nullptr;
  int64_t first_line = 0;   // 1-based line number of `begin`.
  int64_t newlines = 0;     // '\n' bytes in [begin, end).
  size_t row_begin = 0;     // Where the chunk's rows go in the column buffers...
  size_t row_capacity = 0;  // ... and how many fit: the chunk's line ends.

  std::vector<ChunkColumn> columns;
  std::vector<MalformedRow> malformed;  // In line order, with file line numbers.
  size_t rows = 0;                      // Rows written.
  // The rows' lines, relative to first_line, as runs of rows on consecutive lines (see
  // LineNumbers): a value per run, not per row.
  std::vector<LineNumbers::Run> line_runs;
  const char* stop = nullptr;  // Where parsing stopped.
  int64_t newlines_seen = 0;   // '\n' bytes parsing consumed.
  bool overflow = false;       // More records than row_capacity: misaligned.
};

// The quotes and line ends of the input after the skipped lines, counted in pieces on the
// default pool. It starts before the sniffer, so that the workers count while the
// calling thread sniffs; PlanChunks then cuts the chunks at the pieces' bounds. The
// first piece is small: it is chunk 0, which may seed the others' dictionaries.
//
// Waiting never blocks on a queued task: the waiting thread counts the pieces no task
// has taken, and then waits only for pieces being counted. So reading from inside a pool
// task (all workers busy) cannot deadlock, and a task that starts late finds nothing to do.
class PieceCounts {
 public:
  // [begin, end) in `n` pieces; `begin` starts a line. With `release`, each piece's pages
  // are released once counted (see ReleaseText), but for the pieces that lie in the first
  // `keep` bytes, which the parse reads first.
  PieceCounts(const char* begin, const char* end, size_t n, char quote, const MappedFile* release,
              size_t keep)
      : state_(std::make_shared<State>(n, quote, release,
                                       begin + std::min(keep, static_cast<size_t>(end - begin)))) {
    std::vector<const char*>& bounds = state_->bounds;
    const size_t size = static_cast<size_t>(end - begin);
    bounds.push_back(begin);
    if (n > 1) {
      bounds.push_back(begin + std::min(kSeedChunkBytes, size));
      const size_t rest = static_cast<size_t>(end - bounds[1]);
      for (size_t i = 1; i < n; ++i) bounds.push_back(bounds[1] + rest * i / (n - 1));
    } else {
      bounds.push_back(end);
    }
    const size_t helpers = std::min(n - 1, ThreadPool::Default().size());
    for (size_t i = 0; i < helpers; ++i) {
      // The future is not kept: Wait() does not depend on the task running.
      (void)ThreadPool::Default().Submit([state = state_] { state->Drain(); });
    }
  }
  // The data may go away after this: wait for pieces being counted.
  ~PieceCounts() { Wait(); }
  PieceCounts(const PieceCounts&) = delete;
  PieceCounts& operator=(const PieceCounts&) = delete;

  void Wait() {
    State& s = *state_;
    s.Drain();
    const size_t n = s.counts.size();
    for (size_t done = s.done.load(); done < n; done = s.done.load()) s.done.wait(done);
  }

  char quote() const { return state_->quote; }
  // Piece i is [bounds()[i], bounds()[i + 1]).
  const std::vector<const char*>& bounds() const { return state_->bounds; }
  const std::vector<internal::ByteCounts>& counts() const { return state_->counts; }
  // The byte before p, as CountBytes wants it: '\n' at the first piece, a line start.
  char ByteBefore(const char* p) const { return state_->ByteBefore(p); }

 private:
  // Shared with the tasks, which may outlive this object.
  struct State {
    State(size_t n, char q, const MappedFile* r, const char* k)
        : quote(q), release(r), kept_end(k), counts(n) {}
    char ByteBefore(const char* p) const { return p == bounds[0] ? '\n' : p[-1]; }
    // Counts pieces until none is left to take.
    void Drain() {
      for (size_t i; (i = next.fetch_add(1)) < counts.size();) {
        counts[i] = internal::CountBytes(bounds[i], bounds[i + 1], ByteBefore(bounds[i]), quote);
        if (bounds[i + 1] > kept_end) ReleaseText(release, bounds[i], bounds[i + 1]);
        done.fetch_add(1);
        done.notify_all();
      }
    }
    const char quote;
    const MappedFile* const release;
    const char* const kept_end;  // Pieces ending at or before this are not released.
    std::vector<const char*> bounds;
    std::vector<internal::ByteCounts> counts;
    std::atomic<size_t> next{0};  // The next piece to take.
    std::atomic<size_t> done{0};  // Pieces counted.
  };
  std::shared_ptr<State> state_;
};

// Cuts the data rows, [begin, end), into chunks at record boundaries and fills in each
// chunk's plan, from the pieces' counts (waited for). `begin` lies in the counted range
// and starts a line. A boundary is the first line end outside quotes after a piece's
// start, found from the parity of the quotes before it.
std::vector<Chunk> PlanChunks(PieceCounts& pieces, const char* begin, const char* end,
                              int64_t first_line) {
  pieces.Wait();
  const char quote = pieces.quote();
  const std::vector<const char*>& tentative = pieces.bounds();
  const std::vector<internal::ByteCounts>& counts = pieces.counts();
  const size_t n = counts.size();
  // Counts of everything before the data rows (the header and the lines before it, in
  // the first piece but for a huge header).
  internal::ByteCounts upto;  // Counts of [tentative[0], tentative[i]).
  size_t i = 0;
  while (i + 1 < n && tentative[i + 1] <= begin) upto += counts[i++];
  const internal::ByteCounts head =
      upto + internal::CountBytes(tentative[i], begin, pieces.ByteBefore(tentative[i]), quote);

  // Boundaries and the counts of everything before each: bounds[k], before[k].
  std::vector<const char*> bounds{begin};
  std::vector<internal::ByteCounts> before{head};
  for (++i; i < n; ++i) {
    upto += counts[i - 1];
    const char* p = tentative[i];
    bool inside = ((upto.quotes - head.quotes) & 1) != 0;
    while (p < end) {
      char ch = *p++;
      if (ch == quote && quote != '\0') {
        inside = !inside;
      } else if (ch == '\n' && !inside) {
        break;
      }
    }
    if (p > bounds.back() && p < end) {
      bounds.push_back(p);
      before.push_back(
          upto + internal::CountBytes(tentative[i], p, pieces.ByteBefore(tentative[i]), quote));
    }
  }
  bounds.push_back(end);
  before.push_back(upto + counts[n - 1]);

  std::vector<Chunk> chunks(bounds.size() - 1);
  size_t rows = 0;
  for (size_t k = 0; k < chunks.size(); ++k) {
    Chunk& c = chunks[k];
    c.begin = bounds[k];
    c.end = bounds[k + 1];
    c.first_line = first_line + before[k].newlines - head.newlines;
    c.newlines = before[k + 1].newlines - before[k].newlines;
    c.row_begin = rows;
    c.row_capacity = static_cast<size_t>(before[k + 1].line_ends - before[k].line_ends);
    // The last record may end at the end of the input instead of a line end.
    if (k + 1 == chunks.size() && begin < end && end[-1] != '\n') ++c.row_capacity;
    rows += c.row_capacity;
  }
  return chunks;
}

struct ParsePlan {
  const CsvDialect* dialect;
  internal::TokenizerDialect tok;
  const internal::NullMatcher* nulls;
  size_t max_field_bytes;
  const char* data_end;
  std::vector<ColumnBuffers>* buffers;
};

std::string Describe(DataType t) { return std::string(DataTypeName(t)); }

// Batch rows whose value did not fit int32: their rows and values.
using WideValues = std::vector<std::pair<size_t, int64_t>>;

// Stores an int64 value to an int32 or int64 slot; one that does not fit int32 is noted in
// `wide` (its slot gets the low bits), so that the chunk can go over to int64 after the
// batch (ChunkParser::WidenInts). The check costs a compare per value, predicted.
template <typename Int>
[[gnu::always_inline]] inline void StoreInt(Int* out, size_t r, int64_t v, WideValues* wide) {
  if constexpr (std::is_same_v<Int, int32_t>) {
    if (static_cast<int32_t>(v) != v) [[unlikely]] {
      wide->emplace_back(r, v);
    }
  }
  out[r] = static_cast<Int>(v);
}

// How DecodeColumn stores the values of one column type: Put converts `text` into batch
// row r and returns false when it does not fit the type; PutNull stores the placeholder
// of a null. `readable_end` bounds the buffer `text` points into. Put is forced inline:
// it is the body of the decoding loops.
template <typename Int>
struct IntSink {
  Int* out;
  WideValues* wide;
  [[gnu::always_inline]] bool Put(size_t r, std::string_view text, const char* readable_end) {
    if constexpr (std::is_same_v<Int, int64_t>) {
      return internal::ParseInt64(text, &out[r], readable_end);
    } else {
      int64_t v;
      if (!internal::ParseInt64(text, &v, readable_end)) return false;
      StoreInt(out, r, v, wide);
      return true;
    }
  }
  void PutNull(size_t r) { out[r] = 0; }
};

struct FloatSink {
  double* out;
  [[gnu::always_inline]] bool Put(size_t r, std::string_view text, const char*) {
    return internal::ParseFloat64(text, &out[r]);
  }
  void PutNull(size_t r) { out[r] = 0; }
};

struct BoolSink {
  uint8_t* out;
  [[gnu::always_inline]] bool Put(size_t r, std::string_view text, const char*) {
    bool v;
    if (!internal::ParseBool(text, &v)) return false;
    out[r] = v ? 1 : 0;
    return true;
  }
  void PutNull(size_t r) { out[r] = 0; }
};

template <typename Int>
struct DateSink {
  Int* out;
  WideValues* wide;
  [[gnu::always_inline]] bool Put(size_t r, std::string_view text, const char*) {
    auto v = ParseIsoDate(text);
    if (!v) return false;
    StoreInt(out, r, *v, wide);
    return true;
  }
  void PutNull(size_t r) { out[r] = 0; }
};

struct TimestampSink {
  int64_t* out;
  [[gnu::always_inline]] bool Put(size_t r, std::string_view text, const char*) {
    return internal::ParseTimestampOrDate(text, &out[r]);
  }
  void PutNull(size_t r) { out[r] = 0; }
};

struct StringSink {
  uint64_t* ends;  // ends[r]: offsets[row + 1] of batch row r.
  std::string* chars;
  [[gnu::always_inline]] bool Put(size_t r, std::string_view text, const char*) {
    chars->append(text);
    ends[r] = chars->size();
    return true;
  }
  void PutNull(size_t r) { ends[r] = chars->size(); }
};

// Code: uint8_t or int32_t (ChunkColumn::codes32). One-byte codes are only written while
// the dictionary has room for the batch's rows within 256 entries, so every code fits.
template <typename Code>
struct CategorySink {
  Code* out;
  internal::StringDictionary* dict;
  [[gnu::always_inline]] bool Put(size_t r, std::string_view text, const char* readable_end) {
    out[r] = static_cast<Code>(dict->FindOrAdd(text, readable_end));
    return true;
  }
  void PutNull(size_t r) { out[r] = 0; }
};

// Any text is a category, null markers too, so a category column checks each field for a
// marker before its value. Unless a marker was ever read as a value (quoted), the
// dictionary holds none: a field it knows is then no marker, and only the fields it does
// not know (new values and markers, rare) need the check (on the bench file, a sequential
// read took 2-3 ms less CPU).
template <typename Code>
struct KnownFirstCategorySink {
  Code* out;
  internal::StringDictionary* dict;
  const internal::NullMatcher* nulls;
  // The field is a null marker (out[r] is not set) or a value (it is).
  [[gnu::always_inline]] bool PutUnlessNull(size_t r, std::string_view text,
                                            const char* readable_end) {
    int32_t code = dict->Find(text, readable_end);
    if (code < 0) [[unlikely]] {
      if (nulls->Matches(text, false)) return false;
      code = dict->FindOrAdd(text, readable_end);
    }
    out[r] = static_cast<Code>(code);
    return true;
  }
  // As CategorySink's (DecodeColumn does not pass this sink on to DecodeMixed).
  bool Put(size_t r, std::string_view text, const char* readable_end) {
    out[r] = static_cast<Code>(dict->FindOrAdd(text, readable_end));
    return true;
  }
  void PutNull(size_t r) { out[r] = 0; }
};

template <typename Sink>
constexpr bool kIsCategorySink =
    std::is_same_v<Sink, CategorySink<uint8_t>> || std::is_same_v<Sink, CategorySink<int32_t>>;
template <typename Sink>
constexpr bool kIsKnownFirstCategorySink = std::is_same_v<Sink, KnownFirstCategorySink<uint8_t>> ||
                                           std::is_same_v<Sink, KnownFirstCategorySink<int32_t>>;

// True when `text` is a valid value of type `t` (any text is a string or a category).
bool ReadsAs(std::string_view text, DataType t) {
  switch (t) {
    case DataType::kInt64: {
      int64_t v;
      return internal::ParseInt64(text, &v);
    }
    case DataType::kFloat64: {
      double v;
      return internal::ParseFloat64(text, &v);
    }
    case DataType::kBool: {
      bool v;
      return internal::ParseBool(text, &v);
    }
    case DataType::kDate:
      return ParseIsoDate(text).has_value();
    case DataType::kTimestamp: {
      int64_t v;
      return internal::ParseTimestampOrDate(text, &v);
    }
    case DataType::kString:
    case DataType::kCategory:
      return true;
  }
  return true;
}

// Parses one chunk into its rows of the column buffers.
class ChunkParser {
 public:
  // `seed`, when given, is chunk 0, whose dictionaries start this chunk's.
  ChunkParser(const ParsePlan& plan, Chunk* chunk, const Chunk* seed)
      : plan_(plan),
        d_(*plan.dialect),
        width_(d_.types.size()),
        chunk_(chunk),
        special_(plan.tok),
        stops_(plan.tok),
        scan_(&stops_, chunk->begin, plan.data_end),
        bounds_(kBatchRows * (width_ + 1)),
        fields_(kBatchRows * width_),
        valid_(width_),
        chars_begin_(width_),
        null_reads_as_value_(width_) {
    chunk_->columns.resize(width_);
    for (size_t c = 0; c < width_; ++c) {
      for (const std::string& marker : d_.null_values) {
        if (ReadsAs(marker, d_.types[c])) null_reads_as_value_[c] = true;
      }
    }
    if (seed != nullptr) {
      for (size_t c = 0; c < width_; ++c) {
        if (d_.types[c] != DataType::kCategory) continue;
        chunk_->columns[c].dict = seed->columns[c].dict;
        chunk_->columns[c].seeded = chunk_->columns[c].dict.size();
      }
    }
  }

  void Run() {
#ifdef MLOOP_HAVE_X86_SIMD_PATHS
    switch (stops_.simd()) {
      case internal::StopBytes::Simd::kAvx512:
        RunAvx512();
        return;
      case internal::StopBytes::Simd::kAvx2:
        RunAvx2();
        return;
      case internal::StopBytes::Simd::kBaseline:
        break;
    }
#endif
    RunLoop();
  }

 private:
#ifdef MLOOP_HAVE_X86_SIMD_PATHS
  // RunLoop compiled for CPUs with AVX-512BW or AVX2, so that the scanner's wide compares
  // (StopBytes::Mask64) are inlined into the split loop instead of called per window.
  [[gnu::target("avx512f,avx512bw")]] void RunAvx512() { RunLoop(); }
  [[gnu::target("avx2")]] void RunAvx2() { RunLoop(); }
#endif

  // Splits the chunk's records into batches and converts each (Flush).
  [[gnu::always_inline]] inline void RunLoop() {
    const char* p = chunk_->begin;
    const char* end = chunk_->end;
    int64_t line = 0;  // Relative to the chunk's first line.
    while (p < end) {
      if (*p == '\n' || *p == '\r' || (d_.comment != '\0' && *p == d_.comment)) {
        p = internal::SkipBlankAndComments(p, end, d_.comment, &line);
        if (p >= end) break;
      }
      if (chunk_->rows + batch_rows_ == chunk_->row_capacity) {
        chunk_->overflow = true;
        break;
      }
      const char* rec = p;
      const char* content_end = nullptr;
      const char* next = nullptr;
      // The scanner saw every byte of the record: unless one of its windows held a byte
      // that is not ASCII, the record is ASCII and needs no second look (IsAscii was a
      // second pass over every record).
      const bool clean_start = !scan_.LastWindowDirty();
      const uint64_t dirty_before = scan_.dirty_windows();
      const size_t n = internal::SplitPlainRecord(p, plan_.data_end, plan_.tok, &scan_,
                                                  &bounds_[batch_rows_ * (width_ + 1)], width_,
                                                  &content_end, &next);
      if (n == width_ && n > 0 && static_cast<size_t>(content_end - rec) <= plan_.max_field_bytes &&
          ((clean_start && scan_.dirty_windows() == dirty_before) ||
           internal::IsAscii(rec, content_end) || internal::IsValidUtf8(rec, content_end))) {
        p = next;
        rows_[batch_rows_++] = {line, rec, content_end};
        ++line;
      } else {
        auto info = internal::ParseRecord(p, plan_.data_end, plan_.tok, special_, &record_);
        p = info.next;
        const int64_t rec_line = line;
        line += info.newlines;
        if (!CheckRecord(rec, rec_line, info)) continue;
        std::copy(record_.begin(), record_.end(), &fields_[batch_rows_ * width_]);
        parsed_ |= uint64_t{1} << batch_rows_;
        rows_[batch_rows_++] = {rec_line, rec, info.content_end};
      }
      if (batch_rows_ == kBatchRows) Flush();
    }
    Flush();
    chunk_->stop = p;
    chunk_->newlines_seen = line;
  }

  struct RowInfo {
    int64_t line;  // Relative to the chunk's first line.
    const char* text;
    const char* text_end;
  };

  void Malformed(std::vector<MalformedRow>* out, int64_t line, const char* rec, const char* rec_end,
                 std::string reason) {
    out->push_back({chunk_->first_line + line, std::move(reason),
                    std::string(rec, static_cast<size_t>(rec_end - rec))});
  }

  // The checks of a record that took the slow path, in the order they report; false
  // when the record is malformed (and reported).
  bool CheckRecord(const char* rec, int64_t line, const internal::RecordInfo& info) {
    const char* rec_end = info.content_end;
    if (info.status == internal::RecordStatus::kUnterminatedQuote) {
      Malformed(
          &pending_, line, rec, rec_end,
          "field " + std::to_string(info.bad_field + 1) + ": quote opened here is never closed");
      return false;
    }
    if (info.status == internal::RecordStatus::kJunkAfterQuote) {
      Malformed(&pending_, line, rec, rec_end,
                "field " + std::to_string(info.bad_field + 1) +
                    ": unexpected text after the closing quote");
      return false;
    }
    if (record_.size() != width_) {
      Malformed(&pending_, line, rec, rec_end,
                "expected " + std::to_string(width_) + (width_ == 1 ? " field" : " fields") +
                    ", found " + std::to_string(record_.size()));
      return false;
    }
    for (size_t c = 0; c < width_; ++c) {
      if (record_[c].len > plan_.max_field_bytes) {
        Malformed(&pending_, line, rec, rec_end,
                  "field " + std::to_string(c + 1) + " ('" + d_.names[c] + "') is " +
                      std::to_string(record_[c].len) + " bytes, over the limit of " +
                      std::to_string(plan_.max_field_bytes));
        return false;
      }
    }
    if (!internal::IsValidUtf8(rec, rec_end)) {
      // Name the first field with bad bytes.
      size_t c = 0;
      while (c + 1 < width_ &&
             internal::IsValidUtf8(record_[c].ptr, record_[c].ptr + record_[c].len)) {
        ++c;
      }
      Malformed(&pending_, line, rec, rec_end,
                "invalid UTF-8 in field " + std::to_string(c + 1) + " ('" + d_.names[c] + "')");
      return false;
    }
    return true;
  }

  // Converts column c of the batch. Rows that an earlier column of a fixed type
  // rejected are skipped; a value that does not fit a fixed type rejects its row, as the
  // sequential reader did: the columns before it have seen the value, the ones after not.
  template <typename Sink>
  void DecodeColumn(size_t c, Sink sink) {
    if (parsed_ != 0 || rejected_ != 0) {
      DecodeMixed(c, sink);
      return;
    }
    if constexpr (kIsCategorySink<Sink>) {
      if (!DictionaryHoldsMarker(c)) {
        DecodeColumn(c, KnownFirstCategorySink{sink.out, sink.dict, plan_.nulls});
        return;
      }
    }
    // Most batches hold only plain records and no rejected rows. A lean loop converts
    // them and notes the rows that got no value; those are sorted out here. Most also
    // end well before the input does, so that every field is followed by kPadding
    // readable bytes: the loop then need not check before loading whole words.
    const bool padded =
        plan_.data_end - rows_[batch_rows_ - 1].text_end >= static_cast<ptrdiff_t>(kPadding);
    uint64_t failed;
    if (plan_.tok.skip_initial_space) {
      failed = padded ? DecodePlain</*kSkipSpaces=*/true, /*kPadded=*/true>(c, sink)
                      : DecodePlain</*kSkipSpaces=*/true, /*kPadded=*/false>(c, sink);
    } else {
      failed = padded ? DecodePlain</*kSkipSpaces=*/false, /*kPadded=*/true>(c, sink)
                      : DecodePlain</*kSkipSpaces=*/false, /*kPadded=*/false>(c, sink);
    }
    for (uint64_t m = failed; m != 0; m &= m - 1) {
      const size_t r = static_cast<size_t>(__builtin_ctzll(m));
      const std::string_view text = Field(r, c).view();
      if (!plan_.nulls->Matches(text, false)) Misfit(r, c, text);
    }
    valid_[c] = ~failed & RowMask();
  }

  // True when category column c's dictionary holds a null marker (read quoted, as a
  // value). Checks only the values added since the last call.
  bool DictionaryHoldsMarker(size_t c) {
    ChunkColumn& col = chunk_->columns[c];
    for (; col.marker_checked < col.dict.size(); ++col.marker_checked) {
      if (plan_.nulls->Matches(col.dict.value(col.marker_checked), false)) col.holds_marker = true;
    }
    return col.holds_marker;
  }

  // Converts column c of a batch of plain records (no rows rejected). Returns the rows
  // that got no value: a null marker, or a value that does not fit the type.
  template <bool kSkipSpaces, bool kPadded, typename Sink>
  [[gnu::noinline]] uint64_t DecodePlain(size_t c, Sink sink) {
    // Only what the loop needs, in locals: fewer values than registers, and none that
    // the sink's stores could alias.
    const char* const* bounds = bounds_.data() + c;
    const size_t stride = width_ + 1;
    const size_t rows = batch_rows_;
    const char* const data_end = plan_.data_end;
    const internal::NullMatcher& nulls = *plan_.nulls;
    // When no null marker reads as a value of this type (no marker is a number, say),
    // a text that does is no marker: the marker check can wait for the failures.
    const bool nulls_first = null_reads_as_value_[c];
    uint64_t failed = 0;
    for (size_t r = 0; r < rows; ++r, bounds += stride) {
      const char* p = bounds[0];
      const char* e = bounds[1] - 1;
      if (kSkipSpaces) {
        while (*p == ' ') ++p;  // Stops at e: see internal::PlainField.
      }
      const std::string_view text(p, static_cast<size_t>(e - p));
      // Padded, the bound is relative to the text, so that the sinks' checks against it
      // fold away at compile time.
      const char* readable_end = kPadded ? p + kPadding : data_end;
      if constexpr (kIsKnownFirstCategorySink<Sink>) {
        if (!sink.PutUnlessNull(r, text, readable_end)) {
          failed |= uint64_t{1} << r;
          sink.PutNull(r);
        }
      } else if ((nulls_first && nulls.Matches(text, false)) || !sink.Put(r, text, readable_end)) {
        failed |= uint64_t{1} << r;
        sink.PutNull(r);
      }
    }
    return failed;
  }

  // The batch's rows as bits.
  uint64_t RowMask() const {
    return batch_rows_ == 64 ? ~uint64_t{0} : (uint64_t{1} << batch_rows_) - 1;
  }

  // Converts column c of a batch with records ParseRecord took or rows rejected: the
  // general case of DecodePlain. Out of line, as DecodePlain, so that each loop has the
  // registers to itself.
  template <typename Sink>
  [[gnu::noinline]] void DecodeMixed(size_t c, Sink& sink) {
    // Locals, not members: the sink's stores could alias members, which the compiler
    // would then reload for every row.
    const internal::NullMatcher& nulls = *plan_.nulls;
    const char* const data_end = plan_.data_end;
    const bool skip_initial_space = plan_.tok.skip_initial_space;
    const char* const* bounds = bounds_.data() + c;
    const size_t bounds_stride = width_ + 1;
    const uint64_t parsed = parsed_;
    const size_t rows = batch_rows_;
    // Rows rejected by earlier columns. Rows this column rejects need no update here:
    // each is passed once.
    const uint64_t rejected = rejected_;
    // When no null marker reads as a value of this type (no marker is a number, say),
    // a text that does is no marker, and the marker check can wait for a text that
    // does not.
    const bool put_first = !null_reads_as_value_[c];
    uint64_t nulls_here = 0;  // Bit r: row r gets no value.
    for (size_t r = 0; r < rows; ++r, bounds += bounds_stride) {
      std::string_view text;
      bool quoted = false;
      const char* readable_end = data_end;
      if (((parsed >> r) & 1) == 0) {
        const char* p = bounds[0];
        const char* e = bounds[1] - 1;
        if (skip_initial_space) {
          while (*p == ' ') ++p;  // Stops at e: see internal::PlainField.
        }
        text = std::string_view(p, static_cast<size_t>(e - p));
      } else {
        const FieldRef& f = fields_[r * width_ + c];
        text = f.view();
        quoted = f.quoted;
        if (f.escaped) {
          internal::Unescape(text, plan_.tok.quote, &scratch_);
          text = scratch_;
          readable_end = scratch_.data() + scratch_.size();
        }
      }
      if (((rejected >> r) & 1) != 0) {
        nulls_here |= uint64_t{1} << r;
        sink.PutNull(r);
        continue;
      }
      // (A quoted field is never a marker, so unescaping does not change the answer.)
      if (!put_first && nulls.Matches(text, quoted)) {
        nulls_here |= uint64_t{1} << r;
        sink.PutNull(r);
        continue;
      }
      if (sink.Put(r, text, readable_end)) [[likely]] {
        continue;
      }
      nulls_here |= uint64_t{1} << r;
      sink.PutNull(r);
      if (!put_first || !nulls.Matches(text, quoted)) Misfit(r, c, text);
    }
    valid_[c] = ~nulls_here & RowMask();
  }

  // A value, not a null, that does not fit column c's type. Out of line: rare, and it
  // would crowd the decoding loops.
  [[gnu::noinline]] void Misfit(size_t r, size_t c, std::string_view text) {
    if (d_.type_fixed[c]) {
      Reject(r, c);
      return;
    }
    // An inferred type too narrow for this value: note the wider type and go on, so
    // that one re-parse fixes every column.
    ChunkColumn& col = chunk_->columns[c];
    DataType need = internal::JoinTypes(d_.types[c], internal::InferValueType(text));
    col.widen_to = col.widen ? internal::JoinTypes(col.widen_to, need) : need;
    col.widen = true;
  }

  void Reject(size_t r, size_t c) {
    rejected_ |= uint64_t{1} << r;
    std::string_view text = Field(r, c).view();
    if (text.size() > 80) text = text.substr(0, 80);
    Malformed(&rejected_rows_, rows_[r].line, rows_[r].text, rows_[r].text_end,
              "field " + std::to_string(c + 1) + " ('" + d_.names[c] + "'): '" + std::string(text) +
                  "' is not a valid " + Describe(d_.types[c]));
  }

  // Field c of batch row r.
  FieldRef Field(size_t r, size_t c) const {
    if (((parsed_ >> r) & 1) != 0) return fields_[r * width_ + c];
    return internal::PlainField(&bounds_[r * (width_ + 1)], c, plan_.tok.skip_initial_space);
  }

  // Converts the batch into the chunk's next rows, and passes on the malformed records
  // met since the last batch.
  void Flush() {
    const size_t at = chunk_->row_begin + chunk_->rows;
    if (batch_rows_ > 0) DecodeBatch(at);
    size_t kept = batch_rows_;
    if (rejected_ != 0) kept = DropRejectedRows(at);
    NoteLines(kept);
    for (size_t c = 0; c < width_; ++c) chunk_->columns[c].validity.Append(valid_[c], kept);
    chunk_->rows += kept;
    // Malformed rows in line order: those found while splitting the batch's records and
    // those rejected while decoding it interleave.
    auto by_line = [](const MalformedRow& a, const MalformedRow& b) { return a.line < b.line; };
    if (rejected_rows_.empty()) {
      std::move(pending_.begin(), pending_.end(), std::back_inserter(chunk_->malformed));
    } else {
      // Rejected column by column, so not in row order.
      std::sort(rejected_rows_.begin(), rejected_rows_.end(), by_line);
      std::merge(std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()),
                 std::make_move_iterator(rejected_rows_.begin()),
                 std::make_move_iterator(rejected_rows_.end()),
                 std::back_inserter(chunk_->malformed), by_line);
    }
    pending_.clear();
    rejected_rows_.clear();
    rejected_ = 0;
    parsed_ = 0;
    batch_rows_ = 0;
  }

  // Converts each column of the batch into its buffer from row `at` on.
  void DecodeBatch(size_t at) {
    std::vector<ColumnBuffers>& buffers = *plan_.buffers;
    for (size_t c = 0; c < width_; ++c) {
      ColumnBuffers& b = buffers[c];
      ChunkColumn& col = chunk_->columns[c];
      switch (d_.types[c]) {
        case DataType::kInt64:
          if (col.ints64.empty()) {
            DecodeColumn(c, IntSink<int32_t>{b.ints.data() + at, &wide_values_});
            if (!wide_values_.empty()) WidenInts(c, at);
          } else {
            DecodeColumn(c, IntSink<int64_t>{ChunkInts64(c, at), nullptr});
          }
          break;
        case DataType::kDate:
          if (col.ints64.empty()) {
            DecodeColumn(c, DateSink<int32_t>{b.ints.data() + at, &wide_values_});
            if (!wide_values_.empty()) WidenInts(c, at);
          } else {
            DecodeColumn(c, DateSink<int64_t>{ChunkInts64(c, at), nullptr});
          }
          break;
        case DataType::kTimestamp:
          DecodeColumn(c, TimestampSink{b.timestamps.data() + at});
          break;
        case DataType::kFloat64:
          DecodeColumn(c, FloatSink{b.doubles.data() + at});
          break;
        case DataType::kBool:
          DecodeColumn(c, BoolSink{b.bools.data() + at});
          break;
        case DataType::kString:
          chars_begin_[c] = col.chars.size();
          DecodeColumn(c, StringSink{b.offsets.data() + at + 1, &col.chars});
          break;
        case DataType::kCategory:
          // Each row adds at most one entry to the dictionary.
          if (col.codes32.empty() && col.dict.size() + batch_rows_ > 256) WidenCodes(c, at);
          if (col.codes32.empty()) {
            DecodeColumn(c, CategorySink<uint8_t>{b.codes.data() + at, &col.dict});
          } else {
            DecodeColumn(c, CategorySink<int32_t>{ChunkCodes32(c, at), &col.dict});
          }
          break;
      }
    }
  }

  // Integer column c's values of the chunk's row at buffer row `at`, once at full width.
  int64_t* ChunkInts64(size_t c, size_t at) {
    return chunk_->columns[c].ints64.data() + (at - chunk_->row_begin);
  }

  // Moves integer column c's values of the chunk's rows so far, the batch's at buffer row
  // `at` included, to the chunk's own int64 values, and stores there the batch's values
  // that did not fit int32 (wide_values_).
  [[gnu::noinline]] void WidenInts(size_t c, size_t at) {
    MoveChunkRows((*plan_.buffers)[c].ints.data(), at + batch_rows_, &chunk_->columns[c].ints64);
    int64_t* batch = ChunkInts64(c, at);
    for (const auto& [r, v] : wide_values_) batch[r] = v;
    wide_values_.clear();
  }

  // Category column c's codes of the chunk's row at buffer row `at`, once at full width.
  int32_t* ChunkCodes32(size_t c, size_t at) {
    return chunk_->columns[c].codes32.data() + (at - chunk_->row_begin);
  }

  // Moves category column c's codes of the chunk's rows before buffer row `at` to the
  // chunk's own full-width codes, where the rest will go.
  [[gnu::noinline]] void WidenCodes(size_t c, size_t at) {
    MoveChunkRows((*plan_.buffers)[c].codes.data(), at, &chunk_->columns[c].codes32);
  }

  // Sizes `wide` for the chunk's rows and copies there the chunk's values in narrow[row_begin,
  // end), buffer rows.
  template <typename Narrow, typename Wide>
  void MoveChunkRows(const Narrow* narrow, size_t end, std::vector<Wide>* wide) const {
    wide->resize(chunk_->row_capacity);
    std::copy(narrow + chunk_->row_begin, narrow + end, wide->begin());
  }

  // Removes the rejected rows' text from string column c, whose batch rows start at
  // buffer row `at`, leaving their (now empty) offsets to DropRejectedRows.
  void DropRejectedText(size_t c, size_t at) {
    std::string& chars = chunk_->columns[c].chars;
    uint64_t* ends = (*plan_.buffers)[c].offsets.data() + at + 1;
    uint64_t begin = chars_begin_[c];
    uint64_t to = chars_begin_[c];
    for (size_t r = 0; r < batch_rows_; ++r) {
      const uint64_t end = ends[r];
      if (((rejected_ >> r) & 1) == 0) {
        std::memmove(chars.data() + to, chars.data() + begin, end - begin);
        to += end - begin;
      }
      ends[r] = to;
      begin = end;
    }
    chars.resize(to);
  }

  // Removes the rejected rows from the batch's values, validity bits and row list;
  // returns the rows left.
  // Notes the lines of the batch's first `kept` rows, the chunk's next (see Chunk::lines).
  void NoteLines(size_t kept) {
    std::vector<LineNumbers::Run>& runs = chunk_->line_runs;
    for (size_t r = 0; r < kept; ++r) {
      const size_t row = chunk_->rows + r;
      const int64_t line = rows_[r].line;
      if (runs.empty() || line != LineNumbers::LineIn(runs.back(), row)) {
        runs.push_back({row, line});
      }
    }
  }

  size_t DropRejectedRows(size_t at) {
    auto compact = [&](auto* values) {
      size_t to = 0;
      for (size_t r = 0; r < batch_rows_; ++r) {
        if (((rejected_ >> r) & 1) == 0) values[to++] = values[r];
      }
      return to;
    };
    std::vector<ColumnBuffers>& buffers = *plan_.buffers;
    for (size_t c = 0; c < width_; ++c) {
      ColumnBuffers& b = buffers[c];
      switch (d_.types[c]) {
        case DataType::kInt64:
        case DataType::kDate:
          if (chunk_->columns[c].ints64.empty()) {
            compact(b.ints.data() + at);
          } else {
            compact(ChunkInts64(c, at));
          }
          break;
        case DataType::kTimestamp:
          compact(b.timestamps.data() + at);
          break;
        case DataType::kFloat64:
          compact(b.doubles.data() + at);
          break;
        case DataType::kBool:
          compact(b.bools.data() + at);
          break;
        case DataType::kString:
          DropRejectedText(c, at);
          compact(b.offsets.data() + at + 1);
          break;
        case DataType::kCategory:
          if (chunk_->columns[c].codes32.empty()) {
            compact(b.codes.data() + at);
          } else {
            compact(ChunkCodes32(c, at));
          }
          break;
      }
      uint64_t bits = 0;
      size_t to = 0;
      for (size_t r = 0; r < batch_rows_; ++r) {
        if (((rejected_ >> r) & 1) == 0) bits |= ((valid_[c] >> r) & 1) << to++;
      }
      valid_[c] = bits;
    }
    return compact(rows_.data());
  }

  const ParsePlan& plan_;
  const CsvDialect& d_;
  const size_t width_;
  Chunk* chunk_;
  internal::SpecialBytes special_;
  internal::StopBytes stops_;
  internal::StopScanner scan_;
  // The batch. Row r's fields: for a plain record, from its field bounds
  // [r * (width_ + 1), (r + 1) * (width_ + 1)) (SplitPlainRecord); for a record ParseRecord
  // took (bit r of parsed_), fields_[r * width_, (r + 1) * width_).
  std::vector<const char*> bounds_;
  std::vector<FieldRef> fields_;
  uint64_t parsed_ = 0;
  std::array<RowInfo, kBatchRows> rows_;
  size_t batch_rows_ = 0;
  std::vector<uint64_t> valid_;  // Per column: validity bits of the batch's rows.
  uint64_t rejected_ = 0;        // Batch rows a value of a fixed type rejected.
  std::vector<MalformedRow> rejected_rows_;
  std::vector<MalformedRow> pending_;      // Malformed records met while filling the batch.
  std::vector<uint64_t> chars_begin_;      // Per string column: its chars before the batch.
  WideValues wide_values_;                 // Of the column being decoded.
  std::vector<bool> null_reads_as_value_;  // Per column: some null marker has its type.
  internal::FieldList record_;
  std::string scratch_;
};

// Allocates every column's buffers for `rows` rows.
//
// The memory is taken on the calling thread, and faulted in and zero-filled (Resize) by a
// task per column. Taking it here, not in the tasks, matters: freed, it goes back to this
// thread's allocator arena, so a process reading file after file reuses it. Taken by the
// pool's threads, it came from their arenas, which glibc trims, and every call faulted in
// fresh pages again (measured: 10-20 ms for 63 MB of buffers, against 2 ms).
void AllocateBuffers(const std::vector<DataType>& types, size_t rows, size_t threads,
                     std::vector<ColumnBuffers>* buffers) {
  buffers->assign(types.size(), ColumnBuffers{});
  std::vector<BufferSpan> spans;
  for (size_t c = 0; c < types.size(); ++c) {
    ColumnBuffers& b = (*buffers)[c];
    switch (types[c]) {
      case DataType::kInt64:
      case DataType::kDate:
        Reserve(&b.ints, rows, &spans);
        break;
      case DataType::kTimestamp:
        Reserve(&b.timestamps, rows, &spans);
        break;
      case DataType::kFloat64:
        Reserve(&b.doubles, rows, &spans);
        break;
      case DataType::kBool:
        Reserve(&b.bools, rows, &spans);
        break;
      case DataType::kString:
        Reserve(&b.offsets, rows + 1, &spans);
        break;
      case DataType::kCategory:
        Reserve(&b.codes, rows, &spans);
        break;
    }
  }
  AdviseHugePages(spans);
  ForEach(types.size(), threads, [&](size_t c) {
    ColumnBuffers& b = (*buffers)[c];
    switch (types[c]) {
      case DataType::kInt64:
      case DataType::kDate:
        Resize(&b.ints, rows);
        break;
      case DataType::kTimestamp:
        Resize(&b.timestamps, rows);
        break;
      case DataType::kFloat64:
        Resize(&b.doubles, rows);
        break;
      case DataType::kBool:
        Resize(&b.bools, rows);
        break;
      case DataType::kString:
        Resize(&b.offsets, rows + 1);
        break;
      case DataType::kCategory:
        Resize(&b.codes, rows);
        break;
    }
  });
}

// Moves each chunk's rows of `values` down to follow the previous chunk's, closing the
// gaps between a chunk's rows and its capacity, and drops the rest.
template <typename T>
void CloseGaps(std::vector<T>* values, const std::vector<Chunk>& chunks) {
  size_t at = 0;
  for (const Chunk& ch : chunks) {
    if (at != ch.row_begin && ch.rows > 0) {
      std::memmove(values->data() + at, values->data() + ch.row_begin, ch.rows * sizeof(T));
    }
    at += ch.rows;
  }
  values->resize(at);
}

// Merges the chunks' dictionaries of category column c into the file's, in order of first
// appearance, and sets remaps[i] to what chunk i's codes become (empty: they stay).
//
// The file's dictionary is chunk 0's followed by each later chunk's values new to it,
// in chunk order. Chunks after 0 started from chunk 0's dictionary (`seeded`), so only
// their codes from `seeded` on can differ from the file's, and often none do.
std::vector<std::string> MergeDictionaries(std::vector<Chunk>& chunks, size_t c,
                                           std::vector<std::vector<int32_t>>* remaps) {
  internal::StringDictionary merged = std::move(chunks[0].columns[c].dict);
  remaps->assign(chunks.size(), {});
  for (size_t i = 1; i < chunks.size(); ++i) {
    const ChunkColumn& col = chunks[i].columns[c];
    std::vector<int32_t>& remap = (*remaps)[i];
    remap.resize(col.dict.size());
    bool identity = true;
    for (size_t k = 0; k < remap.size(); ++k) {
      remap[k] = k < col.seeded ? static_cast<int32_t>(k) : merged.FindOrAdd(col.dict.value(k));
      identity = identity && remap[k] == static_cast<int32_t>(k);
    }
    if (identity) remap.clear();
  }
  return merged.TakeValues();
}

// Writes the `rows` codes of a chunk, src, as the file's dictionary numbers them to dst,
// which is src or below it in the same buffer, or another buffer. The chunk's rows start at
// row `at` of `validity`, the column's with the gaps closed; nulls keep code 0.
template <typename Src, typename Dst>
void MoveCodes(const Src* src, Dst* dst, size_t rows, const std::vector<int32_t>& remap,
               size_t seeded, const Bitmap& validity, size_t at) {
  if (remap.empty()) {
    if constexpr (std::is_same_v<Src, Dst>) {
      if (src != dst) std::memmove(dst, src, rows * sizeof(Src));
    } else {
      for (size_t r = 0; r < rows; ++r) dst[r] = static_cast<Dst>(src[r]);
    }
  } else if (seeded > 0) {
    // Only codes of values new to the chunk change; a null's 0 is chunk 0's and stays.
    for (size_t r = 0; r < rows; ++r) {
      const auto code = static_cast<size_t>(src[r]);
      dst[r] = static_cast<Dst>(code >= seeded ? remap[code] : static_cast<int32_t>(code));
    }
  } else {
    for (size_t r = 0; r < rows; ++r) {
      dst[r] = static_cast<Dst>(validity.Get(at + r) ? remap[static_cast<size_t>(src[r])] : 0);
    }
  }
}

// The category column c: the chunks' codes, in one-byte codes or their own full-width ones
// (ChunkColumn::codes32), renumbered by the file's dictionary and joined without gaps. One
// byte per row when the file's dictionary has at most 256 entries, int32 otherwise: then,
// rarely, every chunk's codes are widened here, once.
Column FinishCategory(std::string name, ColumnBuffers& b, std::vector<Chunk>& chunks, size_t c,
                      Bitmap validity) {
  std::vector<std::vector<int32_t>> remaps;
  std::vector<std::string> dictionary = MergeDictionaries(chunks, c, &remaps);
  auto join = [&](auto* dst) {
    size_t at = 0;
    for (size_t i = 0; i < chunks.size(); ++i) {
      const Chunk& ch = chunks[i];
      const ChunkColumn& col = ch.columns[c];
      if (col.codes32.empty()) {
        MoveCodes(b.codes.data() + ch.row_begin, dst + at, ch.rows, remaps[i], col.seeded, validity,
                  at);
      } else {
        MoveCodes(col.codes32.data(), dst + at, ch.rows, remaps[i], col.seeded, validity, at);
      }
      at += ch.rows;
    }
    return at;
  };
  if (dictionary.size() <= 256) {
    // Moving down within b.codes: each chunk's rows start at or after where they go.
    b.codes.resize(join(b.codes.data()));
    return Column::FromCategory(std::move(name), std::move(b.codes), std::move(dictionary),
                                std::move(validity));
  }
  std::vector<int32_t> codes(validity.size());
  join(codes.data());
  b.codes = {};
  return Column::FromCategory(std::move(name), std::move(codes), std::move(dictionary),
                              std::move(validity));
}

Column FinishColumn(std::string name, DataType type, ColumnBuffers& b, std::vector<Chunk>& chunks,
                    size_t c) {
  Bitmap validity = chunks[0].columns[c].validity.Take();
  for (size_t i = 1; i < chunks.size(); ++i) {
    validity.AppendBitmap(chunks[i].columns[c].validity.Take());
  }
  switch (type) {
    case DataType::kInt64:
    case DataType::kDate: {
      const bool narrow = std::all_of(chunks.begin(), chunks.end(), [&](const Chunk& ch) {
        return ch.columns[c].ints64.empty();
      });
      if (narrow) {
        CloseGaps(&b.ints, chunks);
        return Column::FromInts(std::move(name), type, std::move(b.ints), std::move(validity));
      }
      // A value did not fit int32: every chunk's values are widened, once.
      std::vector<int64_t> values(validity.size());
      size_t at = 0;
      for (const Chunk& ch : chunks) {
        const std::vector<int64_t>& own = ch.columns[c].ints64;
        if (own.empty()) {
          const int32_t* src = b.ints.data() + ch.row_begin;
          std::copy(src, src + ch.rows, values.begin() + static_cast<ptrdiff_t>(at));
        } else {
          std::copy(own.begin(), own.begin() + static_cast<ptrdiff_t>(ch.rows),
                    values.begin() + static_cast<ptrdiff_t>(at));
        }
        at += ch.rows;
      }
      b.ints = {};
      return Column::FromInts(std::move(name), type, std::move(values), std::move(validity));
    }
    case DataType::kTimestamp:
      CloseGaps(&b.timestamps, chunks);
      return Column::FromInts(std::move(name), type, std::move(b.timestamps), std::move(validity));
    case DataType::kFloat64:
      CloseGaps(&b.doubles, chunks);
      return Column::FromDoubles(std::move(name), std::move(b.doubles), std::move(validity));
    case DataType::kBool:
      CloseGaps(&b.bools, chunks);
      return Column::FromBools(std::move(name), std::move(b.bools), std::move(validity));
    case DataType::kString: {
      // Each chunk's offsets count from its own text; rebase them on the joined text
      // while moving them down.
      std::string chars;
      if (chunks.size() == 1) {
        chars = std::move(chunks[0].columns[c].chars);
      } else {
        size_t total = 0;
        for (const Chunk& ch : chunks) total += ch.columns[c].chars.size();
        chars.reserve(total);
      }
      uint64_t* offsets = b.offsets.data();
      offsets[0] = 0;
      size_t at = 0;
      for (Chunk& ch : chunks) {
        const uint64_t base = chunks.size() == 1 ? 0 : chars.size();
        if (chunks.size() > 1) chars.append(ch.columns[c].chars);
        for (size_t r = 1; r <= ch.rows; ++r) offsets[at + r] = base + offsets[ch.row_begin + r];
        at += ch.rows;
      }
      b.offsets.resize(at + 1);
      return Column::FromStrings(std::move(name), std::move(b.offsets), std::move(chars),
                                 std::move(validity));
    }
    case DataType::kCategory:
      return FinishCategory(std::move(name), b, chunks, c, std::move(validity));
  }
  ThrowInternal("unknown column type");
}

// The lines of the chunks' rows, as runs (joined where a chunk's first run continues the last
// chunk's).
LineNumbers ChunkLines(const std::vector<Chunk>& chunks) {
  std::vector<LineNumbers::Run> runs;
  size_t rows = 0;
  for (const Chunk& ch : chunks) {
    for (const LineNumbers::Run& r : ch.line_runs) {
      runs.push_back({rows + r.row, ch.first_line + r.line});
    }
    rows += ch.rows;
  }
  return LineNumbers::FromRuns(std::move(runs), rows);
}

// Reads `data`. With `file` (whose mapping `data` is, not populated), each stretch of the
// text is released once counted (but for the first chunk_bytes) and again once parsed, so
// that memory holds only the stretches being worked on: chunks are then at most
// chunk_bytes / threads long.
CsvReadResult ReadCsvText(std::string_view data, std::string_view source, const CsvOptions& options,
                          const MappedFile* file) {
  const std::string src(source);
  CsvReadResult result;
  result.bytes = data.size();
  data = internal::CheckedText(data, src);
  if (options.delimiter && (*options.delimiter == '\n' || *options.delimiter == '\r' ||
                            *options.delimiter == options.quote.value_or('"'))) {
    ThrowInvalidArgument(src + ": the delimiter cannot be a line end or the quote character");
  }
  const char* end = data.data() + data.size();
  // Chunking: as many threads as asked, chunks of a megabyte or more.
  const size_t threads = options.threads == 0 ? ThreadPool::Default().size() + 1 : options.threads;
  constexpr size_t kMinChunk = size_t{1} << 20;
  // A few chunks per thread, so that threads finishing at different times even out.
  // (More cost more than they save: 16 per thread was 3 ms slower on the bench file.)
  constexpr size_t kChunksPerThread = 4;
  const char* counted = SkipLines(data, options.skip_lines);  // As the sniffer skips them.
  const size_t text_bytes = static_cast<size_t>(end - counted);
  size_t n =
      threads <= 1 ? 1 : std::clamp<size_t>(text_bytes / kMinChunk, 1, threads * kChunksPerThread);
  if (file != nullptr && threads > 1 && options.chunk_bytes > 0) {
    const size_t most = std::max<size_t>(options.chunk_bytes / threads, kMinChunk);
    n = std::max(n, (text_bytes + most - 1) / most);
  }
  // The sniffer settles the quote as the caller's or '"'.
  PieceCounts pieces(counted, end, n, options.quote.value_or('"'), file, options.chunk_bytes);
  CsvDialect dialect = SniffCsv(data, source, options);

  // Find where the data rows start: after skipped lines, blank and comment lines and
  // the header record.
  int64_t line = 1;
  const char* p = SkipLines(data, dialect.skip_lines);
  line += static_cast<int64_t>(dialect.skip_lines);
  p = internal::SkipBlankAndComments(p, end, dialect.comment, &line);
  internal::TokenizerDialect tok{dialect.delimiter, dialect.quote, dialect.skip_initial_space};
  if (dialect.header && p < end) {
    internal::FieldList fields;
    auto info = internal::ParseRecord(p, end, tok, internal::SpecialBytes(tok), &fields);
    if (info.status != internal::RecordStatus::kOk) {
      ThrowInvalidArgument(src + ":" + std::to_string(line) +
                           ": the header line is malformed (a quote is not closed)");
    }
    p = info.next;
    line += info.newlines;
  }
  const char* data_begin = p;
  const int64_t first_line = line;
  const size_t width = dialect.types.size();

  internal::NullMatcher nulls(dialect.null_values);
  const bool has_category = std::find(dialect.types.begin(), dialect.types.end(),
                                      DataType::kCategory) != dialect.types.end();
  if (dialect.quote != pieces.quote()) ThrowInternal(src + ": the sniffer changed the quote");
  std::vector<Chunk> plan = PlanChunks(pieces, data_begin, end, first_line);
  size_t rows_bound = 0;
  for (const Chunk& ch : plan) rows_bound += ch.row_capacity;

  std::vector<ColumnBuffers> buffers;
  std::vector<Chunk> chunks;
  for (int attempt = 0;; ++attempt) {
    AllocateBuffers(dialect.types, rows_bound, threads, &buffers);
    ParsePlan pp{&dialect, tok, &nulls, options.max_field_bytes, end, &buffers};
    chunks = plan;
    // Drawn only on a terminal (core/progress.h), and only for files worth waiting on.
    std::optional<ProgressBar> bar;
    if (end - data_begin > (std::ptrdiff_t{64} << 20)) {
      bar.emplace("reading " + src, static_cast<uint64_t>(end - data_begin), "bytes");
    }
    auto parse = [&](size_t i, const Chunk* seed) {
      ChunkParser(pp, &chunks[i], seed).Run();
      ReleaseText(file, chunks[i].begin, chunks[i].end);
      if (bar) bar->Add(static_cast<uint64_t>(chunks[i].end - chunks[i].begin));
    };
    if (chunks.size() > 1 && has_category) {
      parse(0, nullptr);
      ThreadPool::Default().ParallelFor(chunks.size() - 1,
                                        [&](size_t i) { parse(i + 1, &chunks[0]); });
    } else {
      ThreadPool::Default().ParallelFor(chunks.size(), [&](size_t i) { parse(i, nullptr); });
    }
    // Each chunk must end where the next begins; otherwise a boundary fell inside a
    // record (unbalanced quotes) and only a sequential parse is right.
    bool aligned = true;
    for (const Chunk& ch : chunks) {
      if (ch.stop != ch.end || ch.overflow || ch.newlines_seen != ch.newlines) aligned = false;
    }
    if (!aligned) {
      Chunk all;
      all.begin = data_begin;
      all.end = end;
      all.first_line = first_line;
      for (const Chunk& ch : plan) all.newlines += ch.newlines;
      all.row_capacity = rows_bound;
      plan.assign(1, all);
      chunks = plan;
      ChunkParser(pp, &chunks[0], nullptr).Run();
      ReleaseText(file, chunks[0].begin, chunks[0].end);
      // The bound holds for any input: each record but a last unterminated one ends at
      // a line end of its own.
      if (chunks[0].overflow) ThrowInternal(src + ": more records than line ends");
    }
    bool widen = false;
    for (size_t c = 0; c < width; ++c) {
      bool any = false;
      DataType to = dialect.types[c];
      for (const Chunk& ch : chunks) {
        if (ch.columns[c].widen) {
          to = any ? internal::JoinTypes(to, ch.columns[c].widen_to) : ch.columns[c].widen_to;
          any = true;
        }
      }
      if (any) {
        // After a few rounds, give up on narrow types.
        dialect.types[c] = attempt >= 3 ? DataType::kString : to;
        widen = true;
      }
    }
    if (!widen) break;
  }

  int64_t newlines = 0;
  for (Chunk& ch : chunks) {
    newlines += ch.newlines_seen;
    std::move(ch.malformed.begin(), ch.malformed.end(), std::back_inserter(result.malformed));
  }
  result.lines = static_cast<uint64_t>(first_line + newlines - 1) +
                 (data.empty() || data.back() == '\n' ? 0 : 1);

  std::vector<Column> columns(width);
  ForEach(width, threads, [&](size_t c) {
    columns[c] = FinishColumn(dialect.names[c], dialect.types[c], buffers[c], chunks, c);
  });
  Table& table = result.table;
  table.set_line_numbers(ChunkLines(chunks));
  for (Column& column : columns) table.AddColumn(std::move(column));
  result.dialect = std::move(dialect);
  return result;
}

}  // namespace

CsvReadResult ReadCsvBuffer(std::string_view data, std::string_view source,
                            const CsvOptions& options) {
  return ReadCsvText(data, source, options, nullptr);
}

CsvReadResult ReadCsv(const std::filesystem::path& path, const CsvOptions& options) {
  CheckReadableFile(path);
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (!ec && options.chunk_bytes > 0 && size > options.chunk_bytes) {
    // Not populated: pages are read as the chunks are counted and parsed, and released
    // after each.
    MappedFile file(path, /*populate=*/false);
    return ReadCsvText(file.view(), path.string(), options, &file);
  }
  MappedFile file(path);
  return ReadCsvBuffer(file.view(), path.string(), options);
}

}  // namespace mloop::table
