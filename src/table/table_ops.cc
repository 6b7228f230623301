#include "table/table_ops.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/time.h"
#include "table/internal/value_parse.h"

namespace mloop::table {
namespace {

// The validity bits of `rows`; all set when the source has no nulls, which spares the
// bit-by-bit gather for most columns.
Bitmap TakeValidity(const Bitmap& src, std::span<const size_t> rows) {
  const size_t n = rows.size();
  std::vector<uint64_t> words((n + 63) / 64, 0);
  if (src.CountSet() == src.size()) {
    std::fill(words.begin(), words.end(), ~uint64_t{0});  // FromWords clears the tail.
  } else {
    const uint64_t* w = src.words().data();
    uint64_t* out = words.data();
    for (size_t k = 0; k < n; ++k) {
      const size_t r = rows[k];
      out[k >> 6] |= ((w[r >> 6] >> (r & 63)) & 1) << (k & 63);
    }
  }
  return Bitmap::FromWords(std::move(words), n);
}

template <typename T>
std::vector<T> Gather(const std::vector<T>& src, std::span<const size_t> rows) {
  std::vector<T> out(rows.size());
  const T* s = src.data();
  T* o = out.data();
  for (size_t k = 0; k < rows.size(); ++k) o[k] = s[rows[k]];
  return out;
}

// At the source's width.
template <typename Narrow, typename Wide>
TwoWidthVector<Narrow, Wide> Gather(const TwoWidthVector<Narrow, Wide>& src,
                                    std::span<const size_t> rows) {
  if (src.is_narrow()) return Gather(src.narrow(), rows);
  return Gather(src.wide(), rows);
}

Column TakeStrings(const Column& c, std::span<const size_t> rows, Bitmap validity) {
  const uint64_t* off = c.offsets().data();
  const char* chars = c.chars().data();
  std::vector<uint64_t> offsets(rows.size() + 1);
  uint64_t total = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    const size_t r = rows[k];
    total += off[r + 1] - off[r];
    offsets[k + 1] = total;
  }
  std::string text(total, '\0');
  char* out = text.data();
  for (size_t k = 0; k < rows.size(); ++k) {
    const size_t r = rows[k];
    std::memcpy(out + offsets[k], chars + off[r], off[r + 1] - off[r]);
  }
  return Column::FromStrings(c.name(), std::move(offsets), std::move(text), std::move(validity));
}

Column TakeColumn(const Column& c, std::span<const size_t> rows) {
  Bitmap validity = TakeValidity(c.validity(), rows);
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      return Column::FromInts(c.name(), c.type(), Gather(c.ints(), rows), std::move(validity));
    case DataType::kFloat64:
      return Column::FromDoubles(c.name(), Gather(c.doubles(), rows), std::move(validity));
    case DataType::kBool:
      return Column::FromBools(c.name(), Gather(c.bools(), rows), std::move(validity));
    case DataType::kString:
      return TakeStrings(c, rows, std::move(validity));
    case DataType::kCategory:
      return Column::FromCategory(c.name(), Gather(c.codes(), rows), c.dictionary(),
                                  std::move(validity));
  }
  ThrowInternal("TakeRows: column '" + c.name() + "' has an unknown type");
}

// Throws unless every table has the first one's column names in its order.
void CheckSameColumns(const std::vector<Table>& tables) {
  const Table& first = tables[0];
  for (size_t t = 1; t < tables.size(); ++t) {
    const Table& other = tables[t];
    const std::string which = "ConcatTables: table " + std::to_string(t);
    const size_t common = std::min(first.num_columns(), other.num_columns());
    for (size_t j = 0; j < common; ++j) {
      if (first.column(j).name() != other.column(j).name()) {
        ThrowInvalidArgument(which + " has column '" + other.column(j).name() + "' at position " +
                             std::to_string(j + 1) + ", where table 0 has '" +
                             first.column(j).name() + "'");
      }
    }
    if (first.num_columns() > common) {
      ThrowInvalidArgument(which + " has no column '" + first.column(common).name() + "' (column " +
                           std::to_string(common + 1) + " of table 0)");
    }
    if (other.num_columns() > common) {
      ThrowInvalidArgument(which + " has a column '" + other.column(common).name() +
                           "' that table 0 does not have");
    }
  }
}

// Appends the rows of `c` as text to a string column's buffers; a null adds no text.
void AppendAsText(const Column& c, std::vector<uint64_t>& offsets, std::string& chars) {
  const size_t n = c.size();
  switch (c.type()) {
    case DataType::kString: {
      const uint64_t base = chars.size();
      chars.append(c.chars());
      const uint64_t* off = c.offsets().data();
      for (size_t i = 1; i <= n; ++i) offsets.push_back(base + off[i]);
      return;
    }
    case DataType::kCategory: {
      const auto& dict = c.dictionary();
      c.codes().Visit([&](const auto* codes) {
        for (size_t i = 0; i < n; ++i) {
          if (c.IsValid(i)) chars.append(dict[static_cast<size_t>(codes[i])]);
          offsets.push_back(chars.size());
        }
      });
      return;
    }
    default:
      // Mixed-type columns are rare (a file whose column was read as another type);
      // the general conversion is fast enough for them.
      for (size_t i = 0; i < n; ++i) {
        if (c.IsValid(i)) chars.append(c.ValueToString(i));
        offsets.push_back(chars.size());
      }
      return;
  }
}

// One column of the result from the same column of every table, as type `type`. Each
// part is cleared once copied, so its memory goes back before the next column is built.
Column ConcatColumn(const std::string& name, DataType type, const std::vector<Column*>& parts,
                    size_t rows) {
  Bitmap validity;
  validity.Reserve(rows);
  for (const Column* p : parts) validity.AppendBitmap(p->validity());
  auto release = [](Column* p) { *p = Column(); };

  switch (type) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp: {
      // int32 when every part is and no date becomes a timestamp, int64 otherwise.
      auto to_timestamp = [&](const Column* p) {
        return type == DataType::kTimestamp && p->type() == DataType::kDate;
      };
      const bool narrow = std::all_of(parts.begin(), parts.end(), [&](const Column* p) {
        return p->ints().is_narrow() && !to_timestamp(p);
      });
      auto concat = [&](auto value_type) {
        using Value = decltype(value_type);
        std::vector<Value> values;
        values.reserve(rows);
        for (Column* p : parts) {
          p->ints().Visit([&](const auto* src) {
            if (to_timestamp(p)) {
              for (size_t r = 0; r < p->size(); ++r) {
                values.push_back(static_cast<Value>(int64_t{src[r]} * kMicrosPerDay));
              }
            } else {
              values.insert(values.end(), src, src + p->size());
            }
          });
          release(p);
        }
        return IntVector(std::move(values));
      };
      IntVector values = narrow ? concat(int32_t{}) : concat(int64_t{});
      return Column::FromInts(name, type, std::move(values), std::move(validity));
    }
    case DataType::kFloat64: {
      std::vector<double> values;
      values.reserve(rows);
      for (Column* p : parts) {
        if (p->type() == DataType::kInt64) {
          p->ints().Visit([&](const auto* src) {
            for (size_t r = 0; r < p->size(); ++r) values.push_back(static_cast<double>(src[r]));
          });
        } else {
          values.insert(values.end(), p->doubles().begin(), p->doubles().end());
        }
        release(p);
      }
      return Column::FromDoubles(name, std::move(values), std::move(validity));
    }
    case DataType::kBool: {
      std::vector<uint8_t> values;
      values.reserve(rows);
      for (Column* p : parts) {
        values.insert(values.end(), p->bools().begin(), p->bools().end());
        release(p);
      }
      return Column::FromBools(name, std::move(values), std::move(validity));
    }
    case DataType::kCategory: {
      size_t entries = 0;
      for (const Column* p : parts) entries += p->dictionary().size();
      // Reserved up front, so the views the index holds into it stay valid.
      std::vector<std::string> dictionary;
      dictionary.reserve(entries);
      std::unordered_map<std::string_view, int32_t> index;
      index.reserve(entries);
      // The merged dictionary first, so that the codes can be written at their final width.
      std::vector<std::vector<int32_t>> remaps;
      remaps.reserve(parts.size());
      for (const Column* p : parts) {
        const auto& dict = p->dictionary();
        // A null's slot may hold code 0 even with an empty dictionary.
        std::vector<int32_t>& remap = remaps.emplace_back(std::max<size_t>(dict.size(), 1), 0);
        for (size_t i = 0; i < dict.size(); ++i) {
          auto it = index.find(dict[i]);
          if (it == index.end()) {
            dictionary.push_back(dict[i]);
            it =
                index.emplace(dictionary.back(), static_cast<int32_t>(dictionary.size() - 1)).first;
          }
          remap[i] = it->second;
        }
      }
      auto concat = [&](auto code_type) {
        using Code = decltype(code_type);
        std::vector<Code> codes;
        codes.reserve(rows);
        for (size_t k = 0; k < parts.size(); ++k) {
          Column* p = parts[k];
          const std::vector<int32_t>& remap = remaps[k];
          // A null holds code 0 (column.h), whatever its part's slot held.
          p->codes().Visit([&](const auto* part_codes) {
            for (size_t r = 0; r < p->size(); ++r) {
              codes.push_back(
                  static_cast<Code>(p->IsValid(r) ? remap[static_cast<size_t>(part_codes[r])] : 0));
            }
          });
          release(p);
        }
        return CodeVector(std::move(codes));
      };
      CodeVector codes = dictionary.size() <= 256 ? concat(uint8_t{}) : concat(int32_t{});
      return Column::FromCategory(name, std::move(codes), std::move(dictionary),
                                  std::move(validity));
    }
    case DataType::kString: {
      size_t text_bytes = 0;
      for (const Column* p : parts) {
        if (p->type() == DataType::kString) text_bytes += p->chars().size();
      }
      std::vector<uint64_t> offsets;
      offsets.reserve(rows + 1);
      offsets.push_back(0);
      std::string chars;
      chars.reserve(text_bytes);
      for (Column* p : parts) {
        AppendAsText(*p, offsets, chars);
        release(p);
      }
      return Column::FromStrings(name, std::move(offsets), std::move(chars), std::move(validity));
    }
  }
  ThrowInternal("ConcatTables: column '" + name + "' has an unknown type");
}

}  // namespace

Table TakeRows(const Table& table, std::span<const size_t> rows) {
  const size_t n = table.num_rows();
  size_t largest = 0;
  for (size_t r : rows) largest = std::max(largest, r);
  if (!rows.empty() && largest >= n) {
    for (size_t k = 0; k < rows.size(); ++k) {
      if (rows[k] >= n) {
        ThrowInvalidArgument("TakeRows: row " + std::to_string(rows[k]) + " (index " +
                             std::to_string(k) + " of the rows asked for) is past the end of a " +
                             std::to_string(n) + "-row table");
      }
    }
  }
  Table result;
  result.set_line_numbers(table.line_numbers().Gather(rows));
  for (const Column& c : table.columns()) result.AddColumn(TakeColumn(c, rows));
  return result;
}

Table ConcatTables(std::vector<Table> tables) {
  if (tables.empty()) return Table();
  CheckSameColumns(tables);
  if (tables.size() == 1) return std::move(tables[0]);

  size_t rows = 0;
  for (const Table& t : tables) rows += t.num_rows();
  std::vector<const LineNumbers*> lines;
  for (const Table& t : tables) lines.push_back(&t.line_numbers());
  Table result;
  result.set_line_numbers(LineNumbers::Concat(lines));

  std::vector<Column*> parts(tables.size());
  for (size_t j = 0; j < tables[0].num_columns(); ++j) {
    DataType type = tables[0].column(j).type();
    for (size_t t = 0; t < tables.size(); ++t) {
      parts[t] = &tables[t].mutable_column(j);
      type = internal::JoinTypes(type, parts[t]->type());
    }
    const std::string name = parts[0]->name();
    result.AddColumn(ConcatColumn(name, type, parts, rows));
  }
  return result;
}

}  // namespace mloop::table
