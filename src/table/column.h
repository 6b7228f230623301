// Column: one typed column of a Table, stored contiguously, with a validity bitmap.
//
// Storage by type (a null still takes a slot, holding 0 or the empty string):
//   int64, date, timestamp  ints()     one int64 per row
//   float64                 doubles()  one double per row
//   bool                    bools()    one byte (0 or 1) per row
//   string                  offsets() and chars(): row i is chars[offsets[i], offsets[i+1])
//   category                codes() into dictionary(); dictionary entries are distinct
//
// A Column is a value type: copyable and movable. Reading from several threads is safe;
// appending is not.
#ifndef MLOOP_TABLE_COLUMN_H_
#define MLOOP_TABLE_COLUMN_H_

#include <cstdint>
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

  const std::vector<int64_t>& ints() const { return ints_; }
  const std::vector<double>& doubles() const { return doubles_; }
  const std::vector<uint8_t>& bools() const { return bools_; }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  const std::string& chars() const { return chars_; }
  const std::vector<int32_t>& codes() const { return codes_; }
  const std::vector<std::string>& dictionary() const { return dictionary_; }

  // Appends. The typed appends must match type(): AppendInt for int64, date and
  // timestamp; AppendString for string and category (a category looks the text up in
  // its dictionary and adds it when new).
  void AppendNull();
  void AppendInt(int64_t v) {
    ints_.push_back(v);
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
    codes_.push_back(code);
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
  static Column FromInts(std::string name, DataType type, std::vector<int64_t> values,
                         Bitmap validity);
  static Column FromDoubles(std::string name, std::vector<double> values, Bitmap validity);
  static Column FromBools(std::string name, std::vector<uint8_t> values, Bitmap validity);
  static Column FromStrings(std::string name, std::vector<uint64_t> offsets, std::string chars,
                            Bitmap validity);
  // A string column of `values`, none null.
  static Column FromStringValues(std::string name, const std::vector<std::string>& values);
  static Column FromCategory(std::string name, std::vector<int32_t> codes,
                             std::vector<std::string> dictionary, Bitmap validity);

 private:
  int32_t LookupOrAddCode(std::string_view v);

  std::string name_;
  DataType type_ = DataType::kString;
  Bitmap validity_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<uint8_t> bools_;
  std::vector<uint64_t> offsets_;
  std::string chars_;
  std::vector<int32_t> codes_;
  std::vector<std::string> dictionary_;
  // Built on the first AppendString into a category; not copied (rebuilt on demand).
  struct CodeIndex {
    std::unordered_map<std::string, int32_t> map;
  };
  std::shared_ptr<CodeIndex> code_index_;
};

}  // namespace mloop::table

#endif  // MLOOP_TABLE_COLUMN_H_
