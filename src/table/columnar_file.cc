#include "table/columnar_file.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include "core/digest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "core/thread_pool.h"
#include "core/version.h"

namespace mloop::table {
namespace fs = std::filesystem;

namespace {

// The envelope, the same in every version (docs/columnar-format.md). The
// "\r\n" after the NUL catches files mangled by a text-mode line-ending
// conversion.
constexpr char kMagic[8] = {'M', 'L', 'C', 'O', 'L', '\0', '\r', '\n'};
constexpr size_t kMagicSize = sizeof kMagic;
constexpr size_t kHeaderSize = kMagicSize + 2 + 2;  // magic, major, minor
constexpr size_t kDigestHexSize = 64;
constexpr size_t kTrailerSize = 8 + kDigestHexSize + kMagicSize;
constexpr size_t kMinFileSize = kHeaderSize + kTrailerSize;

// No zstd frame decodes to more than this many bytes per stored byte: every
// block has a 3-byte header and at least 1 byte of content (an RLE block) and
// decodes to at most ZSTD_BLOCKSIZE_MAX (128 KiB) bytes. Declared sizes above
// the bound are refused before anything is allocated.
constexpr uint64_t kMaxZstdExpansion = ZSTD_BLOCKSIZE_MAX / 4;

constexpr std::string_view kCodec = "zstd";

std::string_view MagicView() { return {kMagic, kMagicSize}; }

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint16_t GetU16(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) |
                               (static_cast<unsigned char>(p[1]) << 8));
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The unsigned integer of the same width as T, for byte swapping.
template <typename T>
using Bits = std::conditional_t<sizeof(T) == 8, uint64_t,
                                std::conditional_t<sizeof(T) == 4, uint32_t, uint8_t>>;

template <typename U>
U ByteSwap(U v) {
  U out = 0;
  for (size_t i = 0; i < sizeof(U); ++i) {
    out = static_cast<U>((out << 8) | (v & 0xff));
    v = static_cast<U>(v >> 8);
  }
  return out;
}

// The little-endian bytes of `values`. On little-endian machines that is the
// vector's own memory, no copy; elsewhere each element is swapped into
// `scratch`.
template <typename T>
std::string_view LittleEndianBytes(const std::vector<T>& values, std::string* scratch) {
  static_assert(std::is_trivially_copyable_v<T>);
  if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
    return {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)};
  } else {
    scratch->resize(values.size() * sizeof(T));
    for (size_t i = 0; i < values.size(); ++i) {
      Bits<T> v = ByteSwap(std::bit_cast<Bits<T>>(values[i]));
      std::memcpy(scratch->data() + i * sizeof(T), &v, sizeof(T));
    }
    return *scratch;
  }
}

// Turns little-endian elements just read into `values` into native ones.
template <typename T>
void FromLittleEndian(std::vector<T>* values) {
  if constexpr (std::endian::native != std::endian::little && sizeof(T) > 1) {
    for (T& x : *values) x = std::bit_cast<T>(ByteSwap(std::bit_cast<Bits<T>>(x)));
  }
}

// How an integer buffer is stored (docs/columnar-format.md, "Encodings"). Plain: the
// elements' own little-endian bytes. Packed: element i is base + s[i], s[i] an unsigned
// little-endian integer of `width` bytes. Delta-packed: the same unpacks to d[i], and
// element i is d[0] + ... + d[i]. Sums and differences wrap modulo 2^64, so every int64
// sequence has an encoding, and each element is then truncated to its type's width.
enum class IntEncoding { kPlain, kPacked, kDeltaPacked };

constexpr std::string_view kPackedName = "packed";
constexpr std::string_view kDeltaPackedName = "delta_packed";

// An integer array that the writer may store narrower than its elements.
struct IntArray {
  const void* data = nullptr;
  size_t count = 0;
  size_t element_bytes = 8;  // In memory. 1: uint8; 4: int32 or uint32; 8: int64 or uint64
  bool is_signed = true;     // for 4-byte elements: sign-extended when widened
  bool delta = false;        // delta-pack (increasing sequences) rather than pack
  // In the file when not packed: a column's narrow storage (uint8 codes, int32 integers) is
  // stored as its wide type, so the file does not depend on how the table held the values.
  size_t stored_bytes = 8;
};

struct PackedInts {
  IntEncoding encoding = IntEncoding::kPlain;
  int64_t base = 0;
  size_t width = 0;
};

// The values the encoding stores before subtracting the base, as int64: the elements, or
// their differences (each minus the one before, the first minus 0) modulo 2^64.
template <typename T>
int64_t StoredAt(const T* v, size_t i, bool delta) {
  const uint64_t x = static_cast<uint64_t>(static_cast<int64_t>(v[i]));
  if (!delta) return static_cast<int64_t>(x);
  const uint64_t previous = i == 0 ? 0 : static_cast<uint64_t>(static_cast<int64_t>(v[i - 1]));
  return static_cast<int64_t>(x - previous);
}

// The packing loops run over every integer of the version file. They are built twice
// (target_clones; the file is compiled with -ftree-vectorize, see CMakeLists.txt): for AVX2,
// whose 64-bit comparisons let the range loop vectorise, and for baseline x86-64; the loader
// picks the one the processor runs. The bytes written are the same either way. Encoding the
// bench file's table (bench/ingest: 683,781 rows, 16 integer arrays) took 17-19 ms of
// processor time with scalar loops, 10-11 ms with these (medians of 25, same file digest).
#if defined(__x86_64__) && !defined(__clang__)
#define MLOOP_PACK_CLONES [[gnu::target_clones("avx2", "default")]]
#else
#define MLOOP_PACK_CLONES
#endif

// The smallest and largest stored values of v[0, n), n > 0.
template <typename T>
MLOOP_PACK_CLONES std::pair<int64_t, int64_t> StoredRange(const T* v, size_t n, bool delta) {
  if (delta) {
    int64_t lo = StoredAt(v, 0, true);
    int64_t hi = lo;
    for (size_t i = 1; i < n; ++i) {
      const int64_t d = StoredAt(v, i, true);
      lo = d < lo ? d : lo;
      hi = d > hi ? d : hi;
    }
    return {lo, hi};
  }
  // In the elements' own type when they are 32 bits wide or narrower: more lanes. (Wider
  // ones are compared as int64, the stored values, whatever their signedness.)
  using Compared = std::conditional_t<sizeof(T) <= 4, T, int64_t>;
  Compared low = static_cast<Compared>(v[0]);
  Compared high = low;
  for (size_t i = 1; i < n; ++i) {
    const auto x = static_cast<Compared>(v[i]);
    low = x < low ? x : low;
    high = x > high ? x : high;
  }
  return {static_cast<int64_t>(low), static_cast<int64_t>(high)};
}

// Writes the stored values of v[0, n) minus `base` as W-byte integers to out[0, n * W).
// Only the low W bytes of each difference are kept, and they depend only on the low W bytes
// of its operands: so the arithmetic is done in 32 bits, which vectorises to more lanes
// (and, for int32 elements, without widening each to 64 bits first).
// `previous` is the element before v[0] (0 at the array's start), from which a delta-packed
// v[0] is stored.
template <typename T, size_t W>
MLOOP_PACK_CLONES void PackAll(const T* __restrict v, size_t n, bool delta, uint64_t base,
                               T previous, char* __restrict out) {
  static_assert(W <= 4);
  using Narrow =
      std::conditional_t<W == 1, uint8_t, std::conditional_t<W == 2, uint16_t, uint32_t>>;
  const auto b = static_cast<uint32_t>(base);
  auto store = [out](size_t i, uint32_t x) {
    const auto narrow = static_cast<Narrow>(x);
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(out + i * W, &narrow, W);
    } else {
      for (size_t k = 0; k < W; ++k) out[i * W + k] = static_cast<char>((x >> (8 * k)) & 0xff);
    }
  };
  if (delta) {
    if (n > 0) store(0, static_cast<uint32_t>(v[0]) - static_cast<uint32_t>(previous) - b);
    for (size_t i = 1; i < n; ++i) {
      store(i, static_cast<uint32_t>(v[i]) - static_cast<uint32_t>(v[i - 1]) - b);
    }
  } else {
    for (size_t i = 0; i < n; ++i) store(i, static_cast<uint32_t>(v[i]) - b);
  }
}

#undef MLOOP_PACK_CLONES

// How v[0, n) packs: the narrowest width (1, 2 or 4 bytes) that holds the span of its stored
// values, and that span's least as the base; plain when none is narrower than the elements.
// `*in_place` is set when the elements are their own packed bytes (each as wide as the
// packing, the least 0, not delta: one-byte category codes, counts from 0 held as int32), so
// that the caller reads them where they are: copying them took fresh memory (on the bench
// file 8.8 MB: its 9 code columns and one int column) for the same bytes.
template <typename T>
PackedInts PlanPack(const T* v, size_t n, size_t element_bytes, bool delta, bool* in_place) {
  PackedInts p;
  *in_place = false;
  if (n == 0) return p;
  const auto [lo, hi] = StoredRange(v, n, delta);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  const size_t width = span <= 0xff ? 1 : span <= 0xffff ? 2 : span <= 0xffffffff ? 4 : 8;
  if (width >= element_bytes) return p;
  p.encoding = delta ? IntEncoding::kDeltaPacked : IntEncoding::kPacked;
  p.base = lo;
  p.width = width;
  *in_place = !delta && width == sizeof(T) && lo == 0 && std::endian::native == std::endian::little;
  return p;
}

// Writes the packed bytes of v[begin, end), as `p` (not plain) says, to `out`: (end - begin)
// times p.width bytes.
template <typename T>
void PackRange(const T* v, size_t begin, size_t end, bool delta, const PackedInts& p, char* out) {
  const uint64_t base = static_cast<uint64_t>(p.base);
  const T previous = begin == 0 ? T{0} : v[begin - 1];
  switch (p.width) {
    case 1:
      PackAll<T, 1>(v + begin, end - begin, delta, base, previous, out);
      break;
    case 2:
      PackAll<T, 2>(v + begin, end - begin, delta, base, previous, out);
      break;
    default:
      PackAll<T, 4>(v + begin, end - begin, delta, base, previous, out);
      break;
  }
}

// Calls fn(typed elements) for the element type of `a`.
template <typename Fn>
decltype(auto) VisitIntArray(const IntArray& a, Fn&& fn) {
  if (a.element_bytes == 1) return fn(static_cast<const uint8_t*>(a.data));
  if (a.element_bytes == 4) {
    if (a.is_signed) return fn(static_cast<const int32_t*>(a.data));
    return fn(static_cast<const uint32_t*>(a.data));
  }
  if (a.is_signed) return fn(static_cast<const int64_t*>(a.data));
  return fn(static_cast<const uint64_t*>(a.data));
}

// What PlanPack and PackRange give for a table's line numbers stored as runs or as none
// (LineNumbers::storage), delta-packed, computed from the runs without a value per row: the
// stored values are the first row's line, then 1 within a run, and at each later run's first
// row the step from the line before (none: 0 for every row).
PackedInts PackDeltaRuns(const LineNumbers& lines, std::string* out) {
  PackedInts p;
  const size_t n = lines.size();
  if (n == 0) return p;
  using Run = LineNumbers::Run;
  const std::vector<Run> none = {{0, 0}};
  const std::vector<Run>& runs =
      lines.storage() == LineNumbers::Storage::kNone ? none : lines.runs();
  const int64_t within = lines.storage() == LineNumbers::Storage::kNone ? 0 : 1;
  // The stored value at run k's first row.
  auto first_stored = [&](size_t k) -> int64_t {
    if (k == 0) return runs[0].line;
    const uint64_t before = static_cast<uint64_t>(runs[k - 1].line) +
                            static_cast<uint64_t>(runs[k].row - 1 - runs[k - 1].row);
    return static_cast<int64_t>(static_cast<uint64_t>(runs[k].line) - before);
  };
  int64_t lo = first_stored(0);
  int64_t hi = lo;
  for (size_t k = 0; k < runs.size(); ++k) {
    const size_t end = k + 1 < runs.size() ? runs[k + 1].row : n;
    const int64_t first = first_stored(k);
    lo = std::min(lo, first);
    hi = std::max(hi, first);
    if (end - runs[k].row > 1) {
      lo = std::min(lo, within);
      hi = std::max(hi, within);
    }
  }
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  const size_t width = span <= 0xff ? 1 : span <= 0xffff ? 2 : span <= 0xffffffff ? 4 : 8;
  if (width >= 8) return p;
  p.encoding = IntEncoding::kDeltaPacked;
  p.base = lo;
  p.width = width;
  out->resize(n * width);
  // As PackAll: the low `width` bytes of each stored value minus the base, little-endian.
  const auto base = static_cast<uint32_t>(lo);
  char* bytes = out->data();
  auto put = [&](size_t i, int64_t stored) {
    const auto x = static_cast<uint32_t>(stored) - base;
    for (size_t k = 0; k < width; ++k) bytes[i * width + k] = static_cast<char>(x >> (8 * k));
  };
  for (size_t k = 0; k < runs.size(); ++k) {
    const size_t begin = runs[k].row;
    const size_t end = k + 1 < runs.size() ? runs[k + 1].row : n;
    put(begin, first_stored(k));
    if (end - begin < 2) continue;
    put(begin + 1, within);
    if (width == 1) {
      std::memset(bytes + begin + 2, bytes[begin + 1], end - begin - 2);
    } else {
      for (size_t i = begin + 2; i < end; ++i) {
        std::memcpy(bytes + i * width, bytes + (begin + 1) * width, width);
      }
    }
  }
  return p;
}

// How `a` packs (PlanPack).
PackedInts PlanPackInts(const IntArray& a, bool* in_place) {
  return VisitIntArray(
      a, [&](const auto* v) { return PlanPack(v, a.count, a.stored_bytes, a.delta, in_place); });
}

// Digest of the parts of the file that hold no data: header ‖ footer ‖ footer
// length.
std::string EnvelopeDigest(std::string_view header, std::string_view footer) {
  std::string length;
  PutU64(&length, footer.size());
  Sha256 h;
  h.Update(header);
  h.Update(footer);
  h.Update(length);
  return h.FinishHex();
}

struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Buffer roles as the footer names them.
constexpr std::string_view kValidity = "validity";
constexpr std::string_view kValues = "values";
constexpr std::string_view kOffsets = "offsets";
constexpr std::string_view kChars = "chars";
constexpr std::string_view kCodes = "codes";
constexpr std::string_view kDictionaryOffsets = "dictionary_offsets";
constexpr std::string_view kDictionaryChars = "dictionary_chars";

// The buffers a column of `type` has, in the order they are written.
std::vector<std::string_view> BufferRoles(DataType type) {
  switch (type) {
    case DataType::kInt64:
    case DataType::kFloat64:
    case DataType::kBool:
    case DataType::kDate:
    case DataType::kTimestamp:
      return {kValidity, kValues};
    case DataType::kString:
      return {kValidity, kOffsets, kChars};
    case DataType::kCategory:
      return {kValidity, kCodes, kDictionaryOffsets, kDictionaryChars};
  }
  return {};
}

// Assembles the file in memory: the header, the buffers (compressed in parallel
// when Finish is called, each with its own zstd context, laid out in the order
// they were added), then the footer and trailer.
class FileBuilder {
 public:
  FileBuilder(std::string name, int level) : name_(std::move(name)), level_(level) {}

  // Adds `bytes`, which must stay alive until Finish; returns the buffer's
  // index in the footer.
  size_t AddBuffer(std::string_view bytes) {
    pending_.push_back({bytes, std::nullopt, std::nullopt});
    return pending_.size() - 1;
  }

  // Adds integers, which must stay alive until Finish, to be stored packed when that is
  // narrower (PackInts), else as AddArray would. `delta` for sequences that mostly
  // increase by small steps (line numbers, offsets).
  template <typename T>
  size_t AddIntArray(const std::vector<T>& values, bool delta) {
    static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t> ||
                  std::is_same_v<T, int32_t>);
    size_t index = AddArray(values);
    pending_[index].ints =
        IntArray{values.data(), values.size(), sizeof(T), std::is_signed_v<T>, delta, sizeof(T)};
    return index;
  }
  // A column's values, stored as its wide type whatever their width in memory. Narrow
  // values always pack (their span fits fewer bytes than the wide type), so the plain
  // bytes added here, the narrow ones, are only used when there are none.
  template <typename Narrow, typename Wide>
  size_t AddIntArray(const TwoWidthVector<Narrow, Wide>& values) {
    if (!values.is_narrow()) return AddIntArray(values.wide(), /*delta=*/false);
    static_assert(sizeof(Narrow) < sizeof(Wide) && sizeof(Narrow) <= 4);
    size_t index = AddArray(values.narrow());
    pending_[index].ints = IntArray{values.narrow().data(),   values.size(),   sizeof(Narrow),
                                    std::is_signed_v<Narrow>, /*delta=*/false, sizeof(Wide)};
    return index;
  }

  // Adds the line numbers as AddIntArray(lines.ToVector(), /*delta=*/true) would, and with
  // the same bytes; runs are packed from their first rows and lines, without a value per row.
  size_t AddLineNumbers(const LineNumbers& lines) {
    if (lines.storage() == LineNumbers::Storage::kValues) {
      return AddIntArray(lines.values(), /*delta=*/true);
    }
    std::string packed;
    const PackedInts p = PackDeltaRuns(lines, &packed);
    if (p.encoding == IntEncoding::kPlain) {
      // Empty, or lines past 2^32 apart: as a value per row.
      line_values_ = lines.ToVector();
      return AddIntArray(line_values_, /*delta=*/true);
    }
    owned_.push_back(std::move(packed));
    pending_.push_back({owned_.back(), std::nullopt, p});
    return pending_.size() - 1;
  }

  // Adds bytes the builder keeps alive itself.
  size_t AddOwnedBuffer(std::string bytes) {
    owned_.push_back(std::move(bytes));
    return AddBuffer(owned_.back());
  }

  template <typename T>
  size_t AddArray(const std::vector<T>& values) {
    std::string scratch;
    std::string_view bytes = LittleEndianBytes(values, &scratch);
    if (bytes.data() == scratch.data()) return AddOwnedBuffer(std::move(scratch));
    return AddBuffer(bytes);
  }

  // Compresses the buffers, appends the footer (with the buffer list added)
  // and the trailer; returns the file.
  // `r`, a zstd call's result, unless it is an error, which is thrown.
  size_t CheckZstd(size_t r) const {
    if (ZSTD_isError(r))
      ThrowInternal(name_ + ": zstd compression failed: " + ZSTD_getErrorName(r));
    return r;
  }

  // Integers are compressed in blocks of this many values: packed ones (PackRange) a block at
  // a time into a buffer the thread keeps, each compressed as it is packed. Packing whole
  // arrays first took fresh memory for them (6 MB on the bench file), faulted in a page at a
  // time, to be read once and freed. Integers packed already (line numbers) are fed to zstd in
  // the same blocks, so that a buffer's bytes do not depend on which way it came.
  static constexpr size_t kBlockValues = size_t{1} << 16;

  // Compresses `total` bytes, handed over `block` bytes at a time by next(offset, size) (a
  // pointer to them), into one zstd frame in out[0, bound); returns its size.
  template <typename Next>
  size_t CompressInBlocks(ZSTD_CCtx* cctx, size_t total, size_t block, Next next, char* out,
                          size_t bound) const {
    CheckZstd(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters));
    CheckZstd(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level_));
    CheckZstd(ZSTD_CCtx_setPledgedSrcSize(cctx, total));
    ZSTD_outBuffer output{out, bound, 0};
    size_t offset = 0;
    do {
      const size_t size = std::min(block, total - offset);
      ZSTD_inBuffer input{next(offset, size), size, 0};
      offset += size;
      const ZSTD_EndDirective mode = offset == total ? ZSTD_e_end : ZSTD_e_continue;
      for (;;) {
        const size_t left = CheckZstd(ZSTD_compressStream2(cctx, &output, &input, mode));
        if (mode == ZSTD_e_end ? left == 0 : input.pos == input.size) break;
        if (output.pos == output.size) ThrowInternal(name_ + ": zstd output over its bound");
      }
    } while (offset < total);
    return output.pos;
  }

  // Packs `a` as `p` says, a block at a time, compressing each (CompressInBlocks).
  size_t CompressPacked(ZSTD_CCtx* cctx, const IntArray& a, const PackedInts& p, char* out,
                        size_t bound) const {
    thread_local std::unique_ptr<char[]> buffer(new char[kBlockValues * 4]);
    return VisitIntArray(a, [&](const auto* v) {
      auto next = [&](size_t offset, size_t size) -> const char* {
        const size_t begin = offset / p.width;
        PackRange(v, begin, begin + size / p.width, a.delta, p, buffer.get());
        return buffer.get();
      };
      return CompressInBlocks(cctx, a.count * p.width, kBlockValues * p.width, next, out, bound);
    });
  }

  std::string Finish(Json footer) {
    const size_t n = pending_.size();
    std::vector<std::string> compressed(n);
    std::vector<std::string> digests(n);
    std::vector<uint64_t> sizes(n);
    std::vector<PackedInts> packing(n);
    // Largest first, so that the threads finish together instead of one compressing a
    // large buffer alone at the end. The file keeps the order the buffers were added in.
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return pending_[a].bytes.size() > pending_[b].bytes.size();
    });
    ThreadPool::Default().ParallelFor(order.size(), [&](size_t k) {
      const size_t i = order[k];
      // One context per thread, kept for the thread's life: a fresh one per buffer faulted in
      // its tables' memory again every time. Reuse does not change the output, as
      // ZSTD_compressCCtx sets every parameter from the level.
      thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree> cctx(ZSTD_createCCtx());
      if (!cctx) ThrowInternal(name_ + ": cannot create a zstd context");
      std::string_view bytes = pending_[i].bytes;
      // Integers are packed first: zstd then reads a quarter or an eighth of the bytes, and
      // compresses them better.
      const IntArray* pack = nullptr;  // Packed block by block as they are compressed.
      if (pending_[i].packed) {
        packing[i] = *pending_[i].packed;
      } else if (pending_[i].ints) {
        const IntArray& a = *pending_[i].ints;
        bool in_place = false;
        packing[i] = PlanPackInts(a, &in_place);
        if (in_place) {
          bytes = std::string_view(static_cast<const char*>(a.data), a.count * packing[i].width);
        } else if (packing[i].encoding != IntEncoding::kPlain) {
          pack = &a;
        }
      }
      sizes[i] = pack != nullptr ? pack->count * packing[i].width : bytes.size();
      // Compressed into a scratch buffer of the worst-case size, then copied out at its real
      // size: sizing every buffer's output for the worst case at once would take as much
      // memory as the table.
      const size_t bound = ZSTD_compressBound(sizes[i]);
      std::unique_ptr<char[]> scratch(new char[bound]);
      size_t c;
      if (pack != nullptr) {
        c = CompressPacked(cctx.get(), *pack, packing[i], scratch.get(), bound);
      } else if (pending_[i].packed && !bytes.empty()) {
        auto next = [&](size_t offset, size_t) { return bytes.data() + offset; };
        c = CompressInBlocks(cctx.get(), bytes.size(), kBlockValues * packing[i].width, next,
                             scratch.get(), bound);
      } else {
        c = CheckZstd(ZSTD_compressCCtx(cctx.get(), scratch.get(), bound, bytes.data(),
                                        bytes.size(), level_));
      }
      compressed[i].assign(scratch.get(), c);
      digests[i] = Sha256Hex(compressed[i]);
    });
    // The lowest version that describes the file: 1.0 has no encodings.
    const bool encoded = std::any_of(packing.begin(), packing.end(), [](const PackedInts& p) {
      return p.encoding != IntEncoding::kPlain;
    });
    std::string file;
    size_t total = kHeaderSize;
    for (const std::string& c : compressed) total += c.size();
    file.reserve(total + 4096 + 96 * n);
    file.append(MagicView());
    PutU16(&file, encoded ? kColumnarFormatMajor : 1);
    PutU16(&file, encoded ? kColumnarFormatMinor : 0);
    Json buffers = Json::array();
    for (size_t i = 0; i < n; ++i) {
      Json b = {{"offset", uint64_t{file.size()}},
                {"length", uint64_t{compressed[i].size()}},
                {"size", sizes[i]},
                {"sha256", std::move(digests[i])}};
      if (packing[i].encoding != IntEncoding::kPlain) {
        b["encoding"] =
            packing[i].encoding == IntEncoding::kPacked ? kPackedName : kDeltaPackedName;
        b["base"] = packing[i].base;
        b["width"] = uint64_t{packing[i].width};
      }
      buffers.push_back(std::move(b));
      file.append(compressed[i]);
      std::string().swap(compressed[i]);
    }
    footer["buffers"] = std::move(buffers);
    std::string text;
    try {
      text = footer.dump();
    } catch (const Json::type_error& e) {
      // The only text from the user in the footer is the column names.
      ThrowInvalidArgument(name_ + ": a column name is not valid UTF-8: " + e.what());
    }
    std::string digest = EnvelopeDigest(std::string_view(file).substr(0, kHeaderSize), text);
    file.append(text);
    PutU64(&file, text.size());
    file.append(digest);
    file.append(MagicView());
    return file;
  }

 private:
  std::string name_;
  int level_;
  struct Pending {
    std::string_view bytes;            // as stored when not packed
    std::optional<IntArray> ints;      // integers that may be packed
    std::optional<PackedInts> packed;  // set when `bytes` are packed already
  };
  std::vector<int64_t> line_values_;  // AddLineNumbers' values, when it needs them.
  std::vector<Pending> pending_;
  std::deque<std::string> owned_;  // A deque: adding does not move what is there.
};

void DictionaryBuffers(const std::vector<std::string>& dictionary, std::vector<uint64_t>* offsets,
                       std::string* chars) {
  offsets->reserve(dictionary.size() + 1);
  offsets->push_back(0);
  for (const std::string& s : dictionary) {
    chars->append(s);
    offsets->push_back(chars->size());
  }
}

// Checks that a column's storage agrees with its length, so the file never
// describes buffers of the wrong size.
void CheckColumnStorage(const Column& c, size_t rows) {
  size_t n = 0;
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      n = c.ints().size();
      break;
    case DataType::kFloat64:
      n = c.doubles().size();
      break;
    case DataType::kBool:
      n = c.bools().size();
      break;
    case DataType::kString:
      // offsets has rows + 1 entries and ends at the text's size.
      n = c.offsets().empty() || c.offsets().back() != c.chars().size() ? rows + 1
                                                                        : c.offsets().size() - 1;
      break;
    case DataType::kCategory:
      n = c.codes().size();
      break;
  }
  if (c.size() != rows || n != rows || c.validity().words().size() != (rows + 63) / 64) {
    ThrowInternal("column '" + c.name() + "' has inconsistent storage: " +
                  std::to_string(c.size()) + " rows in a table of " + std::to_string(rows));
  }
}

Schema SchemaToRecord(const Table& table, const fs::path& path,
                      const ColumnarWriteOptions& options) {
  Schema own = table.schema();
  if (!options.schema) return own;
  const Schema& given = *options.schema;
  if (given.size() != own.size()) {
    ThrowInvalidArgument(path.string() + ": the schema given has " + std::to_string(given.size()) +
                         " fields, the table " + std::to_string(own.size()) + " columns");
  }
  for (size_t i = 0; i < own.size(); ++i) {
    const Field& f = given.field(i);
    if (f.name != own.field(i).name || f.type != own.field(i).type) {
      ThrowInvalidArgument(path.string() + ": schema field " + std::to_string(i) + " is '" +
                           f.name + "' " + std::string(DataTypeName(f.type)) +
                           ", the table's column is '" + own.field(i).name + "' " +
                           std::string(DataTypeName(own.field(i).type)));
    }
    if (!f.nullable && table.column(i).null_count() > 0) {
      ThrowInvalidArgument(path.string() + ": column '" + f.name +
                           "' is declared not nullable but has " +
                           std::to_string(table.column(i).null_count()) + " nulls");
    }
  }
  return given;
}

}  // namespace

void WriteColumnarFile(const Table& table, const fs::path& path,
                       const ColumnarWriteOptions& options) {
  WriteFileAtomic(path, EncodeColumnarFile(table, path.string(), options));
}

std::string EncodeColumnarFile(const Table& table, std::string_view name,
                               const ColumnarWriteOptions& options) {
  const fs::path path(name);
  if (options.compression_level < ZSTD_minCLevel() ||
      options.compression_level > ZSTD_maxCLevel()) {
    ThrowInvalidArgument(path.string() + ": zstd compression level " +
                         std::to_string(options.compression_level) + " is outside [" +
                         std::to_string(ZSTD_minCLevel()) + ", " +
                         std::to_string(ZSTD_maxCLevel()) + "]");
  }
  Schema schema = SchemaToRecord(table, path, options);
  const size_t rows = table.num_rows();
  for (const Column& c : table.columns()) CheckColumnStorage(c, rows);

  FileBuilder builder(std::string(name), options.compression_level);
  Json footer = {{"rows", uint64_t{rows}},
                 {"codec", kCodec},
                 {"created_by", std::string("mloop ") + kVersion}};
  footer["line_numbers"] = builder.AddLineNumbers(table.line_numbers());

  Json columns = Json::array();
  for (size_t i = 0; i < table.num_columns(); ++i) {
    const Column& c = table.column(i);
    const Field& f = schema.field(i);
    Json entry = {{"name", f.name},
                  {"type", DataTypeName(f.type)},
                  {"role", ColumnRoleName(f.role)},
                  {"nullable", f.nullable},
                  {"null_count", uint64_t{c.null_count()}}};
    Json buffers = Json::object();
    buffers[kValidity] = builder.AddArray(c.validity().words());
    switch (c.type()) {
      case DataType::kInt64:
      case DataType::kDate:
      case DataType::kTimestamp:
        buffers[kValues] = builder.AddIntArray(c.ints());
        break;
      case DataType::kFloat64:
        buffers[kValues] = builder.AddArray(c.doubles());
        break;
      case DataType::kBool:
        buffers[kValues] = builder.AddArray(c.bools());
        break;
      case DataType::kString:
        buffers[kOffsets] = builder.AddIntArray(c.offsets(), /*delta=*/true);
        buffers[kChars] = builder.AddBuffer(c.chars());
        break;
      case DataType::kCategory: {
        buffers[kCodes] = builder.AddIntArray(c.codes());
        std::vector<uint64_t> offsets;
        std::string chars;
        DictionaryBuffers(c.dictionary(), &offsets, &chars);
        entry["dictionary_size"] = uint64_t{c.dictionary().size()};
        std::string scratch;
        std::string_view offset_bytes = LittleEndianBytes(offsets, &scratch);
        buffers[kDictionaryOffsets] = builder.AddOwnedBuffer(std::string(offset_bytes));
        buffers[kDictionaryChars] = builder.AddOwnedBuffer(std::move(chars));
        break;
      }
    }
    entry["buffers"] = std::move(buffers);
    columns.push_back(std::move(entry));
  }
  footer["columns"] = std::move(columns);
  return builder.Finish(std::move(footer));
}

namespace {

struct BufferRef {
  uint64_t offset = 0;
  uint64_t length = 0;  // bytes in the file
  uint64_t size = 0;    // bytes once decompressed
  std::string sha256;
  PackedInts packing;  // plain, or how the integers were packed (format 2)
};

struct ColumnEntry {
  Field field;
  uint64_t null_count = 0;
  uint64_t dictionary_size = 0;  // category only
  // (role, index into OpenedFile::buffers), for each role BufferRoles lists.
  std::vector<std::pair<std::string_view, size_t>> buffers;

  size_t Buffer(std::string_view role) const {
    for (const auto& [r, i] : buffers) {
      if (r == role) return i;
    }
    return 0;  // Unreachable: ParseColumn checked every role is present.
  }
};

// A file whose envelope and footer have been checked; column bytes not yet
// read.
struct OpenedFile {
  explicit OpenedFile(const fs::path& path) : file(path) {}

  MappedFile file;
  int major = 0;
  int minor = 0;
  std::string checksum;
  std::string created_by;
  uint64_t rows = 0;
  std::vector<BufferRef> buffers;
  size_t line_numbers = 0;
  std::vector<ColumnEntry> columns;

  std::string Name() const { return file.path().string(); }
};

[[noreturn]] void Malformed(const fs::path& path, const std::string& what) {
  ThrowInvalidArgument(path.string() + ": malformed columnar file footer: " + what);
}

// Typed getters that throw Malformed instead of nlohmann's exceptions.
const Json& Member(const fs::path& path, const Json& obj, std::string_view key,
                   const std::string& where) {
  if (!obj.is_object()) Malformed(path, where + " is not an object");
  auto it = obj.find(key);
  if (it == obj.end()) Malformed(path, where + " has no \"" + std::string(key) + "\"");
  return *it;
}

uint64_t GetUnsigned(const fs::path& path, const Json& obj, std::string_view key,
                     const std::string& where) {
  const Json& v = Member(path, obj, key, where);
  if (!v.is_number_unsigned()) {
    Malformed(path, where + ": \"" + std::string(key) + "\" is not a non-negative integer");
  }
  return v.get<uint64_t>();
}

std::string GetString(const fs::path& path, const Json& obj, std::string_view key,
                      const std::string& where) {
  const Json& v = Member(path, obj, key, where);
  if (!v.is_string()) Malformed(path, where + ": \"" + std::string(key) + "\" is not a string");
  return v.get<std::string>();
}

bool GetBool(const fs::path& path, const Json& obj, std::string_view key,
             const std::string& where) {
  const Json& v = Member(path, obj, key, where);
  if (!v.is_boolean()) Malformed(path, where + ": \"" + std::string(key) + "\" is not a bool");
  return v.get<bool>();
}

// a * b, or nullopt when it overflows.
std::optional<uint64_t> CheckedMul(uint64_t a, uint64_t b) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return std::nullopt;
  return a * b;
}

// Checks buffer `index` exists and decodes to `count` elements of `width`
// bytes. Only integer buffers (`integers`) may be packed, to fewer bytes than their
// elements; their stored size is then `count` × the packed width.
size_t CheckBuffer(const OpenedFile& f, uint64_t index, uint64_t count, uint64_t width,
                   const std::string& what, bool integers = false) {
  if (index >= f.buffers.size()) {
    Malformed(f.file.path(), what + " refers to buffer " + std::to_string(index) + " of " +
                                 std::to_string(f.buffers.size()));
  }
  const PackedInts& packing = f.buffers[index].packing;
  if (packing.encoding != IntEncoding::kPlain) {
    if (!integers || packing.width >= width) {
      Malformed(f.file.path(), what + " cannot be packed to " + std::to_string(packing.width) +
                                   " bytes per element");
    }
    width = packing.width;
  }
  std::optional<uint64_t> expected = CheckedMul(count, width);
  if (!expected || f.buffers[index].size != *expected) {
    Malformed(f.file.path(), what + " decodes to " + std::to_string(f.buffers[index].size) +
                                 " bytes, expected " + std::to_string(count) + " × " +
                                 std::to_string(width));
  }
  return static_cast<size_t>(index);
}

void ParseBuffers(OpenedFile* f, const Json& footer, uint64_t footer_offset) {
  const fs::path& path = f->file.path();
  const Json& list = Member(path, footer, "buffers", "footer");
  if (!list.is_array()) Malformed(path, "\"buffers\" is not an array");
  // The buffers tile the data region exactly, so every byte of the file is
  // covered by a digest: a buffer's, or (header, footer, trailer) the
  // envelope's.
  uint64_t next = kHeaderSize;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string where = "buffer " + std::to_string(i);
    BufferRef b;
    b.offset = GetUnsigned(path, list[i], "offset", where);
    b.length = GetUnsigned(path, list[i], "length", where);
    b.size = GetUnsigned(path, list[i], "size", where);
    b.sha256 = GetString(path, list[i], "sha256", where);
    if (b.offset != next || b.length > footer_offset - next) {
      Malformed(path, where + " at [" + std::to_string(b.offset) + ", +" +
                          std::to_string(b.length) + ") does not follow the previous one at " +
                          std::to_string(next) + " inside the data region ending at " +
                          std::to_string(footer_offset));
    }
    if (b.size / kMaxZstdExpansion > b.length) {
      Malformed(path, where + " claims " + std::to_string(b.size) + " bytes from " +
                          std::to_string(b.length) + " compressed ones");
    }
    if (!IsSha256Hex(b.sha256)) Malformed(path, where + ": \"sha256\" is not a SHA-256");
    if (list[i].contains("encoding")) {
      if (f->major < 2) Malformed(path, where + " has an encoding, which format 1 does not");
      std::string encoding = GetString(path, list[i], "encoding", where);
      if (encoding == kPackedName) {
        b.packing.encoding = IntEncoding::kPacked;
      } else if (encoding == kDeltaPackedName) {
        b.packing.encoding = IntEncoding::kDeltaPacked;
      } else {
        Malformed(path, where + " has the unknown encoding '" + encoding + "'");
      }
      const Json& base = Member(path, list[i], "base", where);
      if (!base.is_number_integer() ||
          (base.is_number_unsigned() &&
           base.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()})) {
        Malformed(path, where + ": \"base\" is not a 64-bit signed integer");
      }
      b.packing.base = base.get<int64_t>();
      b.packing.width = GetUnsigned(path, list[i], "width", where);
      if (b.packing.width != 1 && b.packing.width != 2 && b.packing.width != 4) {
        Malformed(path,
                  where + ": \"width\" is " + std::to_string(b.packing.width) + ", not 1, 2 or 4");
      }
    }
    next += b.length;
    f->buffers.push_back(std::move(b));
  }
  if (next != footer_offset) {
    Malformed(path, "the buffers end at " + std::to_string(next) + ", the footer starts at " +
                        std::to_string(footer_offset));
  }
}

ColumnEntry ParseColumn(const OpenedFile& f, const Json& j, size_t i) {
  const fs::path& path = f.file.path();
  std::string where = "column " + std::to_string(i);
  ColumnEntry c;
  c.field.name = GetString(path, j, "name", where);
  where = "column '" + c.field.name + "'";
  std::string type = GetString(path, j, "type", where);
  std::optional<DataType> t = DataTypeFromName(type);
  if (!t || DataTypeName(*t) != type) Malformed(path, where + " has unknown type '" + type + "'");
  c.field.type = *t;
  std::string role = GetString(path, j, "role", where);
  std::optional<ColumnRole> r = ColumnRoleFromName(role);
  if (!r) Malformed(path, where + " has unknown role '" + role + "'");
  c.field.role = *r;
  c.field.nullable = GetBool(path, j, "nullable", where);
  c.null_count = GetUnsigned(path, j, "null_count", where);
  if (c.null_count > f.rows || (!c.field.nullable && c.null_count > 0)) {
    Malformed(path, where + " has " + std::to_string(c.null_count) + " nulls");
  }
  if (c.field.type == DataType::kCategory) {
    c.dictionary_size = GetUnsigned(path, j, "dictionary_size", where);
    // Codes are int32.
    if (c.dictionary_size > uint64_t{std::numeric_limits<int32_t>::max()} + 1) {
      Malformed(path, where + " has a dictionary of " + std::to_string(c.dictionary_size));
    }
  }
  const Json& buffers = Member(path, j, "buffers", where);
  for (std::string_view role_name : BufferRoles(c.field.type)) {
    std::string what = where + " " + std::string(role_name) + " buffer";
    uint64_t index = GetUnsigned(path, buffers, role_name, where + " buffers");
    uint64_t count = f.rows, width = 8;
    if (role_name == kValidity) {
      count = (f.rows + 63) / 64;
    } else if (role_name == kValues) {
      width = c.field.type == DataType::kBool ? 1 : 8;
    } else if (role_name == kOffsets) {
      count = f.rows + 1;
    } else if (role_name == kCodes) {
      width = 4;
    } else if (role_name == kDictionaryOffsets) {
      count = c.dictionary_size + 1;
    } else {  // chars, dictionary_chars: any length
      count = index < f.buffers.size() ? f.buffers[index].size : 0;
      width = 1;
    }
    const bool integers = role_name == kOffsets || role_name == kCodes ||
                          role_name == kDictionaryOffsets ||
                          (role_name == kValues &&
                           (c.field.type == DataType::kInt64 || c.field.type == DataType::kDate ||
                            c.field.type == DataType::kTimestamp));
    c.buffers.emplace_back(role_name, CheckBuffer(f, index, count, width, what, integers));
  }
  return c;
}

OpenedFile OpenColumnarFile(const fs::path& path) {
  OpenedFile f(path);
  std::string_view bytes = f.file.view();
  const std::string name = path.string();
  if (bytes.size() < kMagicSize) {
    // A prefix of the magic is a file cut short; anything else is some other
    // file.
    if (MagicView().starts_with(bytes)) {
      ThrowDataLoss(name + ": truncated columnar file: " + std::to_string(bytes.size()) + " bytes");
    }
    ThrowInvalidArgument(name + ": not an mloop columnar file");
  }
  if (bytes.substr(0, kMagicSize) != MagicView()) {
    ThrowInvalidArgument(name + ": not an mloop columnar file");
  }
  if (bytes.size() < kMinFileSize || bytes.substr(bytes.size() - kMagicSize) != MagicView()) {
    ThrowDataLoss(name + ": truncated or corrupt columnar file: " + std::to_string(bytes.size()) +
                  " bytes and no trailer");
  }
  const char* trailer = bytes.data() + bytes.size() - kTrailerSize;
  uint64_t footer_length = GetU64(trailer);
  if (footer_length > bytes.size() - kMinFileSize) {
    ThrowDataLoss(name + ": corrupt columnar file: footer length " + std::to_string(footer_length) +
                  " exceeds the file's " + std::to_string(bytes.size()) + " bytes");
  }
  uint64_t footer_offset = bytes.size() - kTrailerSize - footer_length;
  std::string_view footer_text = bytes.substr(footer_offset, footer_length);
  f.checksum = std::string(trailer + 8, kDigestHexSize);
  if (EnvelopeDigest(bytes.substr(0, kHeaderSize), footer_text) != f.checksum) {
    ThrowDataLoss(name + ": corrupt columnar file: header or footer does not match its " +
                  "SHA-256");
  }
  // The version is trusted only now: a corrupt version byte is data_loss above,
  // not a "newer version" below.
  f.major = GetU16(bytes.data() + kMagicSize);
  f.minor = GetU16(bytes.data() + kMagicSize + 2);
  std::string version = std::to_string(f.major) + "." + std::to_string(f.minor);
  std::string ours =
      std::to_string(kColumnarFormatMajor) + "." + std::to_string(kColumnarFormatMinor);
  if (f.major > kColumnarFormatMajor) {
    throw Error(ErrorCode::kFailedPrecondition, name + ": columnar format version " + version +
                                                    " is newer than this mloop reads (" + ours +
                                                    "); upgrade mloop");
  }
  if (f.major < 1) {
    ThrowInvalidArgument(name + ": unknown columnar format version " + version);
  }

  Json footer = Json::parse(footer_text, nullptr, /*allow_exceptions=*/false);
  if (footer.is_discarded() || !footer.is_object()) Malformed(path, "not a JSON object");
  if (GetString(path, footer, "codec", "footer") != kCodec) {
    Malformed(path, "unknown codec '" + GetString(path, footer, "codec", "footer") + "'");
  }
  f.rows = GetUnsigned(path, footer, "rows", "footer");
  if (auto it = footer.find("created_by"); it != footer.end() && it->is_string()) {
    f.created_by = it->get<std::string>();
  }
  ParseBuffers(&f, footer, footer_offset);
  f.line_numbers = CheckBuffer(f, GetUnsigned(path, footer, "line_numbers", "footer"), f.rows, 8,
                               "the line numbers buffer", /*integers=*/true);
  const Json& columns = Member(path, footer, "columns", "footer");
  if (!columns.is_array()) Malformed(path, "\"columns\" is not an array");
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < columns.size(); ++i) {
    f.columns.push_back(ParseColumn(f, columns[i], i));
    if (!names.insert(f.columns.back().field.name).second) {
      Malformed(path, "two columns are named '" + f.columns.back().field.name + "'");
    }
  }
  return f;
}

template <size_t W>
uint64_t LoadNarrow(const char* p) {
  uint64_t v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, W);
  } else {
    for (size_t b = 0; b < W; ++b) v |= uint64_t{static_cast<unsigned char>(p[b])} << (8 * b);
  }
  return v;
}

template <typename T, size_t W>
void UnpackAll(const PackedInts& p, std::string_view packed, std::vector<T>* out) {
  const size_t n = packed.size() / W;
  out->resize(n);
  const uint64_t base = static_cast<uint64_t>(p.base);
  T* values = out->data();
  if (p.encoding == IntEncoding::kDeltaPacked) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; ++i) {
      sum += base + LoadNarrow<W>(packed.data() + i * W);
      values[i] = static_cast<T>(sum);
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      values[i] = static_cast<T>(base + LoadNarrow<W>(packed.data() + i * W));
    }
  }
}

// The integers a packed buffer holds, each truncated to T as the writer's were widened
// from it (the reader's checks on codes and offsets see what a crafted file decodes to).
template <typename T>
std::vector<T> Unpack(const PackedInts& p, std::string_view packed) {
  std::vector<T> values;
  switch (p.width) {
    case 1:
      UnpackAll<T, 1>(p, packed, &values);
      break;
    case 2:
      UnpackAll<T, 2>(p, packed, &values);
      break;
    default:
      UnpackAll<T, 4>(p, packed, &values);
      break;
  }
  return values;
}

// Reads, verifies and decompresses buffers of one file.
class BufferReader {
 public:
  explicit BufferReader(const OpenedFile& f) : f_(f) {
    dctx_.reset(ZSTD_createDCtx());
    if (!dctx_) ThrowInternal(f_.Name() + ": cannot create a zstd context");
  }

  // Decompresses buffer `index` into `dst`, which holds exactly its decoded
  // size. `what` names it in errors ("column 'age' values buffer").
  void Read(size_t index, void* dst, const std::string& what) {
    const BufferRef& b = f_.buffers[index];
    std::string_view stored = f_.file.view().substr(b.offset, b.length);
    if (Sha256Hex(stored) != b.sha256) {
      ThrowDataLoss(f_.Name() + ": " + what + " is corrupt: its bytes do not match their " +
                    "SHA-256");
    }
    size_t n = ZSTD_decompressDCtx(dctx_.get(), dst, b.size, stored.data(), stored.size());
    if (ZSTD_isError(n) || n != b.size) {
      ThrowDataLoss(f_.Name() + ": " + what + " does not decompress to its " +
                    std::to_string(b.size) + " bytes" +
                    (ZSTD_isError(n) ? std::string(": ") + ZSTD_getErrorName(n) : ""));
    }
  }

  template <typename T>
  std::vector<T> ReadArray(size_t index, const std::string& what) {
    const BufferRef& b = f_.buffers[index];
    if (b.packing.encoding != IntEncoding::kPlain) {
      std::string packed(b.size, '\0');
      Read(index, packed.data(), what);
      return Unpack<T>(b.packing, packed);
    }
    std::vector<T> values(b.size / sizeof(T));
    Read(index, values.data(), what);
    FromLittleEndian(&values);
    return values;
  }

  // Integers stored as Wide, read at Narrow when they all fit: straight from a packed
  // buffer whose range fits Narrow, else by narrowing what a wide read gives.
  template <typename Narrow, typename Wide>
  TwoWidthVector<Narrow, Wide> ReadNarrowable(size_t index, const std::string& what) {
    const BufferRef& b = f_.buffers[index];
    const PackedInts& p = b.packing;
    if (p.encoding == IntEncoding::kPacked && p.width <= 4) {
      // Every value lies in [base, base + 2^(8 * width) - 1].
      const int64_t span = (int64_t{1} << (8 * p.width)) - 1;
      int64_t top;
      if (!__builtin_add_overflow(p.base, span, &top) &&
          p.base >= int64_t{std::numeric_limits<Narrow>::min()} &&
          top <= int64_t{std::numeric_limits<Narrow>::max()}) {
        std::string packed(b.size, '\0');
        Read(index, packed.data(), what);
        return Unpack<Narrow>(p, packed);
      }
    }
    std::vector<Wide> wide = ReadArray<Wide>(index, what);
    using Values = TwoWidthVector<Narrow, Wide>;
    if (!std::all_of(wide.begin(), wide.end(), [](Wide v) { return Values::Fits(v); })) {
      return wide;
    }
    return std::vector<Narrow>(wide.begin(), wide.end());
  }

  std::string ReadBytes(size_t index, const std::string& what) {
    std::string bytes(f_.buffers[index].size, '\0');
    Read(index, bytes.data(), what);
    return bytes;
  }

 private:
  const OpenedFile& f_;
  std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> dctx_;
};

// Offsets must start at 0, never decrease and end at the text's size.
bool ValidOffsets(const std::vector<uint64_t>& offsets, uint64_t chars) {
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != chars) return false;
  for (size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] < offsets[i - 1]) return false;
  }
  return true;
}

Column ReadColumn(const OpenedFile& f, const ColumnEntry& c, BufferReader* reader) {
  const std::string& name = c.field.name;
  std::string where = "column '" + name + "' ";
  auto bad = [&](const std::string& what) {
    ThrowInvalidArgument(f.Name() + ": column '" + name + "': " + what);
  };
  Bitmap validity = Bitmap::FromWords(
      reader->ReadArray<uint64_t>(c.Buffer(kValidity), where + "validity buffer"), f.rows);
  if (f.rows - validity.CountSet() != c.null_count) {
    bad("the validity bitmap has " + std::to_string(f.rows - validity.CountSet()) +
        " nulls, the footer says " + std::to_string(c.null_count));
  }
  switch (c.field.type) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      return Column::FromInts(
          name, c.field.type,
          reader->ReadNarrowable<int32_t, int64_t>(c.Buffer(kValues), where + "values buffer"),
          std::move(validity));
    case DataType::kFloat64:
      return Column::FromDoubles(
          name, reader->ReadArray<double>(c.Buffer(kValues), where + "values buffer"),
          std::move(validity));
    case DataType::kBool: {
      auto values = reader->ReadArray<uint8_t>(c.Buffer(kValues), where + "values buffer");
      for (uint8_t v : values) {
        if (v > 1) bad("a bool value is " + std::to_string(v));
      }
      return Column::FromBools(name, std::move(values), std::move(validity));
    }
    case DataType::kString: {
      auto offsets = reader->ReadArray<uint64_t>(c.Buffer(kOffsets), where + "offsets buffer");
      std::string chars = reader->ReadBytes(c.Buffer(kChars), where + "chars buffer");
      if (!ValidOffsets(offsets, chars.size())) bad("string offsets out of order or range");
      return Column::FromStrings(name, std::move(offsets), std::move(chars), std::move(validity));
    }
    case DataType::kCategory: {
      CodeVector codes =
          reader->ReadNarrowable<uint8_t, int32_t>(c.Buffer(kCodes), where + "codes buffer");
      auto offsets = reader->ReadArray<uint64_t>(c.Buffer(kDictionaryOffsets),
                                                 where + "dictionary_offsets buffer");
      std::string chars =
          reader->ReadBytes(c.Buffer(kDictionaryChars), where + "dictionary_chars buffer");
      if (!ValidOffsets(offsets, chars.size())) bad("dictionary offsets out of order or range");
      std::vector<std::string> dictionary;
      dictionary.reserve(c.dictionary_size);
      std::unordered_set<std::string_view> seen;
      for (size_t i = 0; i + 1 < offsets.size(); ++i) {
        std::string_view entry =
            std::string_view(chars).substr(offsets[i], offsets[i + 1] - offsets[i]);
        if (!seen.insert(entry).second) bad("dictionary entry repeated");
        dictionary.emplace_back(entry);
      }
      codes.Visit([&](const auto* code) {
        for (size_t i = 0; i < codes.size(); ++i) {
          // A null's slot holds 0, which may point past an empty dictionary.
          uint64_t limit =
              validity.Get(i) ? dictionary.size() : std::max<size_t>(1, dictionary.size());
          const auto value = static_cast<int64_t>(code[i]);
          if (value < 0 || static_cast<uint64_t>(value) >= limit) {
            bad("row " + std::to_string(i) + " has code " + std::to_string(value) +
                " outside the dictionary of " + std::to_string(dictionary.size()));
          }
        }
      });
      return Column::FromCategory(name, std::move(codes), std::move(dictionary),
                                  std::move(validity));
    }
  }
  ThrowInternal(f.Name() + ": column '" + name + "' of an unhandled type");
}

}  // namespace

Table ReadColumnarFile(const fs::path& path, const ColumnarReadOptions& options) {
  OpenedFile f = OpenColumnarFile(path);
  std::vector<size_t> selected;
  if (options.columns) {
    std::unordered_set<std::string_view> asked;
    for (const std::string& name : *options.columns) {
      if (!asked.insert(name).second) {
        ThrowInvalidArgument(f.Name() + ": column '" + name + "' is asked for twice");
      }
      size_t i = 0;
      while (i < f.columns.size() && f.columns[i].field.name != name) ++i;
      if (i == f.columns.size()) {
        std::string have;
        for (const ColumnEntry& c : f.columns) have += (have.empty() ? "" : ", ") + c.field.name;
        ThrowInvalidArgument(f.Name() + ": no column '" + name + "' (the file has: " + have + ")");
      }
      selected.push_back(i);
    }
  } else {
    for (size_t i = 0; i < f.columns.size(); ++i) selected.push_back(i);
  }

  BufferReader reader(f);
  Table table;
  table.set_line_numbers(reader.ReadArray<int64_t>(f.line_numbers, "line numbers buffer"));
  for (size_t i : selected) table.AddColumn(ReadColumn(f, f.columns[i], &reader));
  return table;
}

ColumnarFileInfo ReadColumnarFileInfo(const fs::path& path) {
  OpenedFile f = OpenColumnarFile(path);
  ColumnarFileInfo info;
  info.format_major = f.major;
  info.format_minor = f.minor;
  info.rows = f.rows;
  info.file_bytes = f.file.view().size();
  info.checksum = f.checksum;
  info.created_by = f.created_by;
  for (const ColumnEntry& c : f.columns) {
    info.schema.Add(c.field);
    ColumnarColumnInfo ci;
    ci.name = c.field.name;
    ci.null_count = c.null_count;
    for (const auto& [role, index] : c.buffers) {
      ci.compressed_bytes += f.buffers[index].length;
      ci.uncompressed_bytes += f.buffers[index].size;
    }
    info.columns.push_back(std::move(ci));
  }
  return info;
}

}  // namespace mloop::table
