// Column: one typed column of a Table, stored contiguously, with a validity bitmap.
//
// Storage by type (a null still takes a slot, holding 0 or the empty string):
//   int64, date, timestamp  ints()     one int32 per row while every value fits (the CSV
//                                      reader's int64 and date columns, mostly), int64
//                                      otherwise (timestamps, in microseconds, mostly)
//   float64                 doubles()  one double per row
//   bool                    bools()    one byte (0 or 1) per row
//   string                  offsets() and chars(): row i is chars[offsets[i], offsets[i+1])
//   category                codes() into dictionary(); dictionary entries are distinct.
//                           One byte per row while every code fits (readers use it whenever
//                           the dictionary has at most 256 entries), int32 otherwise.
//
// Narrow storage exists because fresh memory is expensive: the kernel zeroes every page a
// reader fills, and on the bench machine that was ~19% of an ingest's CPU. The bench file's
// table (6 int64 and 9 category columns) takes 23 MB instead of 58, and its ingest peaks at
// 68 MB RSS instead of 105 (line numbers kept as runs too). Loops over a narrowable buffer call
// its Visit, which hands them a typed pointer, so that each loop is compiled once per width with no
// per-row branch (or copy a block at the wide width with CopyWide); per-row reads (IntAt, CodeAt)
// branch.
//
// A Column is a value type: copyable and movable. Reading from several threads is safe;
// appending is not.
#ifndef MLOOP_TABLE_COLUMN_H_
#define MLOOP_TABLE_COLUMN_H_

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "table/schema.h"

namespace mloop::table {

// A growable bitmap; bit i set means row i holds a value (is not null).
class Bitmap {
 public:
  size_t size() const { return size_; }
  bool Get(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  void Set(size_t i, bool v) {
    uint64_t mask = uint64_t{1} << (i & 63);
    words_[i >> 6] = v ? (words_[i >> 6] | mask) : (words_[i >> 6] & ~mask);
  }
  void Append(bool v) {
    if ((size_ & 63) == 0) words_.push_back(0);
    if (v) words_[size_ >> 6] |= uint64_t{1} << (size_ & 63);
    ++size_;
  }
  void AppendMany(bool v, size_t n);
  void AppendBitmap(const Bitmap& other);
  void Reserve(size_t n) { words_.reserve((n + 63) / 64); }
  // Drops the last bit.
  void PopBack() {
    --size_;
    words_[size_ >> 6] &= ~(uint64_t{1} << (size_ & 63));
    if ((size_ & 63) == 0) words_.pop_back();
  }
  size_t CountSet() const;
  // The words, 64 rows each, least significant bit first; bits past size() are 0.
  const std::vector<uint64_t>& words() const { return words_; }
  static Bitmap FromWords(std::vector<uint64_t> words, size_t size);

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

// Copies src[0, n) to dst[0, n) at the wider type, several values per instruction (at -O2
// the compiler leaves such loops scalar).
void WidenValues(const uint8_t* src, size_t n, int32_t* dst);
void WidenValues(const int32_t* src, size_t n, int64_t* dst);

// The values of one column at one of two widths: Narrow while every value fits it,
// Wide otherwise. Either width may hold any values that fit it: which one a column has
// is a storage detail, invisible in the values (operator[], ToWide). Appending a value
// that does not fit Narrow converts the buffer to Wide once.
template <typename Narrow, typename Wide>
class TwoWidthVector {
 public:
  // An empty buffer is narrow.
  TwoWidthVector() = default;
  TwoWidthVector(std::vector<Narrow> values) : narrow_(std::move(values)) {}
  TwoWidthVector(std::vector<Wide> values) : wide_(std::move(values)), is_narrow_(false) {}
  TwoWidthVector(std::initializer_list<Wide> values) : wide_(values), is_narrow_(false) {}

  static bool Fits(Wide v) { return static_cast<Wide>(static_cast<Narrow>(v)) == v; }

  bool is_narrow() const { return is_narrow_; }
  size_t size() const { return is_narrow_ ? narrow_.size() : wide_.size(); }
  bool empty() const { return size() == 0; }
  Wide operator[](size_t i) const { return is_narrow_ ? Wide{narrow_[i]} : wide_[i]; }
  // Appends other's values; widens this buffer when they are wide.
  void Append(const TwoWidthVector& other) {
    if (is_narrow_ && other.is_narrow_) {
      narrow_.insert(narrow_.end(), other.narrow_.begin(), other.narrow_.end());
      return;
    }
    Widen();
    if (other.is_narrow_) {
      wide_.insert(wide_.end(), other.narrow_.begin(), other.narrow_.end());
    } else {
      wide_.insert(wide_.end(), other.wide_.begin(), other.wide_.end());
    }
  }
  // Calls f(const Narrow*) or f(const Wide*) with the first value, and returns its result.
  template <typename F>
  decltype(auto) Visit(F&& f) const {
    return is_narrow_ ? f(narrow_.data()) : f(wide_.data());
  }
  // The buffer of each width; the one that is_narrow() does not name is empty.
  const std::vector<Narrow>& narrow() const { return narrow_; }
  const std::vector<Wide>& wide() const { return wide_; }
  // Copies the values [begin, begin + n) to out[0, n) at the wide width.
  void CopyWide(size_t begin, size_t n, Wide* out) const {
    if (is_narrow_) {
      WidenValues(narrow_.data() + begin, n, out);
    } else {
      std::copy_n(wide_.data() + begin, n, out);
    }
  }
  // The values at the wide width (a copy).
  std::vector<Wide> ToWide() const {
    if (!is_narrow_) return wide_;
    return std::vector<Wide>(narrow_.begin(), narrow_.end());
  }

  void PushBack(Wide v) {
    if (is_narrow_) {
      if (Fits(v)) [[likely]] {
        narrow_.push_back(static_cast<Narrow>(v));
        return;
      }
      Widen();
    }
    wide_.push_back(v);
  }
  void Reserve(size_t n) { is_narrow_ ? narrow_.reserve(n) : wide_.reserve(n); }
  // Converts the values to Wide (no-op when they are).
  void Widen() {
    if (!is_narrow_) return;
    wide_.assign(narrow_.begin(), narrow_.end());
    narrow_ = {};
    is_narrow_ = false;
  }

 private:
  std::vector<Narrow> narrow_;
  std::vector<Wide> wide_;
  bool is_narrow_ = true;
};

// Category codes: one byte for dictionaries of up to 256 entries, as Arrow sizes its
// dictionary indices.
using CodeVector = TwoWidthVector<uint8_t, int32_t>;
// Values of int64, date and timestamp columns.
using IntVector = TwoWidthVector<int32_t, int64_t>;

class Column {
 public:
  Column() : Column(std::string(), DataType::kString) {}
  Column(std::string name, DataType type) : name_(std::move(name)), type_(type) {
    if (type_ == DataType::kString) offsets_.push_back(0);
  }

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  DataType type() const { return type_; }
  size_t size() const { return validity_.size(); }
  size_t null_count() const { return size() - validity_.CountSet(); }
  bool IsValid(size_t i) const { return validity_.Get(i); }
  bool IsNull(size_t i) const { return !validity_.Get(i); }
  const Bitmap& validity() const { return validity_; }

  // Typed reads; the caller checks type() first.
  int64_t IntAt(size_t i) const { return ints_[i]; }
  double DoubleAt(size_t i) const { return doubles_[i]; }
  bool BoolAt(size_t i) const { return bools_[i] != 0; }
  int32_t CodeAt(size_t i) const { return codes_[i]; }
  // string: the row's text; category: its dictionary entry.
  std::string_view StringAt(size_t i) const {
    if (type_ == DataType::kCategory) return dictionary_[static_cast<size_t>(codes_[i])];
    return std::string_view(chars_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  // Any numeric-like value as a double (int64, float64, bool, date, timestamp).
  double NumberAt(size_t i) const;
  // The value as text, as a CSV writer would print it; "" for a null.
  std::string ValueToString(size_t i) const;

  const IntVector& ints() const { return ints_; }
  const std::vector<double>& doubles() const { return doubles_; }
  const std::vector<uint8_t>& bools() const { return bools_; }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  const std::string& chars() const { return chars_; }
  const CodeVector& codes() const { return codes_; }
  const std::vector<std::string>& dictionary() const { return dictionary_; }

  // Appends. The typed appends must match type(): AppendInt for int64, date and
  // timestamp; AppendString for string and category (a category looks the text up in
  // its dictionary and adds it when new).
  void AppendNull();
  void AppendInt(int64_t v) {
    ints_.PushBack(v);
    validity_.Append(true);
  }
  void AppendDouble(double v) {
    doubles_.push_back(v);
    validity_.Append(true);
  }
  void AppendBool(bool v) {
    bools_.push_back(v ? 1 : 0);
    validity_.Append(true);
  }
  void AppendString(std::string_view v);
  void AppendCode(int32_t code) {
    codes_.PushBack(code);
    validity_.Append(true);
  }
  // Appends row `i` of `other`, which must have the same type.
  void AppendFrom(const Column& other, size_t i);
  // Appends all rows of `other` (same type; categories are re-coded into this
  // column's dictionary).
  void AppendColumn(const Column& other);
  void Reserve(size_t rows);

  // Bulk construction, used by readers that build buffers themselves. Each takes the
  // buffers and the validity bitmap; sizes must agree.
  // `values` converts from a std::vector<int32_t> or std::vector<int64_t>.
  static Column FromInts(std::string name, DataType type, IntVector values, Bitmap validity);
  static Column FromDoubles(std::string name, std::vector<double> values, Bitmap validity);
  static Column FromBools(std::string name, std::vector<uint8_t> values, Bitmap validity);
  static Column FromStrings(std::string name, std::vector<uint64_t> offsets, std::string chars,
                            Bitmap validity);
  // A string column of `values`, none null.
  static Column FromStringValues(std::string name, const std::vector<std::string>& values);
  // `codes` converts from a std::vector<uint8_t> or std::vector<int32_t>.
  static Column FromCategory(std::string name, CodeVector codes,
                             std::vector<std::string> dictionary, Bitmap validity);

 private:
  int32_t LookupOrAddCode(std::string_view v);

  std::string name_;
  DataType type_ = DataType::kString;
  Bitmap validity_;
  IntVector ints_;
  std::vector<double> doubles_;
  std::vector<uint8_t> bools_;
  std::vector<uint64_t> offsets_;
  std::string chars_;
  CodeVector codes_;
  std::vector<std::string> dictionary_;
  // Built on the first AppendString into a category; not copied (rebuilt on demand).
  struct CodeIndex {
    std::unordered_map<std::string, int32_t> map;
  };
  std::shared_ptr<CodeIndex> code_index_;
};

}  // namespace mloop::table

#endif  // MLOOP_TABLE_COLUMN_H_
