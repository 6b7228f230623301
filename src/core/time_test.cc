#include "core/time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

namespace mloop {
namespace {

constexpr int64_t kHour = 3600 * kMicrosPerSecond;
constexpr int64_t kMinute = 60 * kMicrosPerSecond;

TEST(TimeConstantsTest, Units) {
  EXPECT_EQ(kMicrosPerSecond, 1'000'000);
  EXPECT_EQ(kMicrosPerDay, 86'400'000'000);
}

TEST(NowMicrosTest, IsAfter2020AndMonotonicEnough) {
  int64_t a = NowMicros();
  int64_t b = NowMicros();
  EXPECT_GT(a, *ParseIsoTimestamp("2020-01-01T00:00:00Z"));
  EXPECT_GE(b, a);
}

TEST(DaysFromCivilTest, KnownValues) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1970, 1, 2), 1);
  EXPECT_EQ(DaysFromCivil(1970, 3, 1), 59);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 1, 1), 10957);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
  EXPECT_EQ(DaysFromCivil(1900, 1, 1), -25567);
  EXPECT_EQ(DaysFromCivil(1600, 2, 29), -135081);
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), 2932896);
}

TEST(DaysFromCivilTest, ConsecutiveDaysAcrossMonthAndYearEnds) {
  EXPECT_EQ(DaysFromCivil(2023, 3, 1) - DaysFromCivil(2023, 2, 28), 1);
  EXPECT_EQ(DaysFromCivil(2024, 3, 1) - DaysFromCivil(2024, 2, 29), 1);
  EXPECT_EQ(DaysFromCivil(2024, 1, 1) - DaysFromCivil(2023, 12, 31), 1);
  EXPECT_EQ(DaysFromCivil(2001, 1, 1) - DaysFromCivil(2000, 1, 1), 366);
  EXPECT_EQ(DaysFromCivil(1901, 1, 1) - DaysFromCivil(1900, 1, 1), 365);
}

// ---------------------------------------------------------------------------
// ParseIsoDate

TEST(ParseIsoDateTest, ValidDates) {
  EXPECT_EQ(ParseIsoDate("1970-01-01"), 0);
  EXPECT_EQ(ParseIsoDate("2000-03-01"), 11017);
  EXPECT_EQ(ParseIsoDate("2024-02-29"), 19782);  // Leap year.
  EXPECT_EQ(ParseIsoDate("2000-02-29"), DaysFromCivil(2000, 2, 29));
  EXPECT_EQ(ParseIsoDate("1969-12-31"), -1);
  EXPECT_EQ(ParseIsoDate("1900-01-01"), -25567);
  EXPECT_EQ(ParseIsoDate("0001-01-01"), -719162);
  EXPECT_EQ(ParseIsoDate("9999-12-31"), 2932896);
  EXPECT_EQ(ParseIsoDate("2023-12-31"), DaysFromCivil(2023, 12, 31));
}

TEST(ParseIsoDateTest, DatesThatDoNotExist) {
  EXPECT_EQ(ParseIsoDate("2023-02-29"), std::nullopt);  // Not a leap year.
  EXPECT_EQ(ParseIsoDate("1900-02-29"), std::nullopt);  // Century, not leap.
  EXPECT_EQ(ParseIsoDate("2023-02-30"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-04-31"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-01-32"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-01-00"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-00-10"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-13-01"), std::nullopt);
}

TEST(ParseIsoDateTest, WrongShapes) {
  EXPECT_EQ(ParseIsoDate(""), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-1-01"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-01-1"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("23-01-01"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("02023-01-01"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-01-011"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-01-01 "), std::nullopt);
  EXPECT_EQ(ParseIsoDate(" 2023-01-01"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("20230101"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023/01/01"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-01-0a"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2O23-01-01"), std::nullopt);  // Letter O.
  EXPECT_EQ(ParseIsoDate("+023-01-01"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023-01-01T00:00"), std::nullopt);
  EXPECT_EQ(ParseIsoDate("2023--1-01"), std::nullopt);
}

// ---------------------------------------------------------------------------
// ParseIsoTimestamp

TEST(ParseIsoTimestampTest, SeparatorsAndOptionalSeconds) {
  const int64_t noon = DaysFromCivil(2024, 2, 29) * kMicrosPerDay + 12 * kHour;
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29T12:00:00"), noon);
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29 12:00:00"), noon);
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29T12:00"), noon);
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29 12:00"), noon);
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29T12:00Z"), noon);
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29T12:34:56Z"), 1709210096000000);
  EXPECT_EQ(ParseIsoTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIsoTimestamp("1970-01-01T00:00:01"), kMicrosPerSecond);
  EXPECT_EQ(ParseIsoTimestamp("2023-12-31T23:59:59Z"),
            DaysFromCivil(2024, 1, 1) * kMicrosPerDay - kMicrosPerSecond);
}

TEST(ParseIsoTimestampTest, Fractions) {
  const int64_t base = *ParseIsoTimestamp("2024-01-01T00:00:00Z");
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00:00.5"), base + 500000);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00:00.5Z"), base + 500000);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00:00.123"), base + 123000);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00:00.123456Z"), base + 123456);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00:00.000001"), base + 1);
  // Digits past microseconds are dropped, not rounded.
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00:00.1234569"), base + 123456);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00:00.999999999"), base + 999999);
  // ISO 8601 allows a comma as the decimal sign.
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T00:00:00,25"), base + 250000);
}

TEST(ParseIsoTimestampTest, Offsets) {
  const int64_t utc_0430 = 1704083400000000;  // 2024-01-01T04:30:00Z
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T10:00:00+05:30"), utc_0430);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T10:00:00+0530"), utc_0430);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01 10:00+05:30"), utc_0430);
  const int64_t utc_1800 = 1704132000000000;  // 2024-01-01T18:00:00Z
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T10:00:00-0800"), utc_1800);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T10:00:00-08:00"), utc_1800);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T10:00:00+00:00"),
            ParseIsoTimestamp("2024-01-01T10:00:00Z"));
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T10:00:00-00:00"),
            ParseIsoTimestamp("2024-01-01T10:00:00Z"));
  // An offset can move the instant to another day.
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T01:00:00+02:00"),
            ParseIsoTimestamp("2023-12-31T23:00:00Z"));
  EXPECT_EQ(ParseIsoTimestamp("2023-12-31T23:00:00.250-01:00"),
            ParseIsoTimestamp("2024-01-01T00:00:00.25Z"));
}

TEST(ParseIsoTimestampTest, BeforeTheEpoch) {
  EXPECT_EQ(ParseIsoTimestamp("1969-12-31T23:59:59Z"), -kMicrosPerSecond);
  EXPECT_EQ(ParseIsoTimestamp("1969-12-31T23:59:59.999999Z"), -1);
  EXPECT_EQ(ParseIsoTimestamp("1969-07-20T20:17:40Z"), -14182940000000);
  EXPECT_EQ(ParseIsoTimestamp("1965-03-01T00:00:00.25Z"), -152668799750000);
  EXPECT_EQ(ParseIsoTimestamp("1900-01-01T00:00:00Z"), -25567 * kMicrosPerDay);
}

TEST(ParseIsoTimestampTest, InvalidInputs) {
  for (const char* text : {
           "",                            // Empty.
           "2024-01-01",                  // A bare date is ParseIsoDate's job.
           "2024-01-01T",                 // No time.
           "2024-01-01T12",               // No minutes.
           "2024-01-01T1:00",             // One-digit hour.
           "2024-01-01T12:0",             // One-digit minute.
           "2024-01-01T24:00",            // Hour 24.
           "2024-01-01T12:60",            // Minute 60.
           "2024-01-01T12:00:61",         // Second 61.
           "2024-01-01T12:00:6",          // One-digit second.
           "2024-01-01X12:00",            // Bad separator.
           "2024-01-01t12:00:00",         // Lowercase separator.
           "2024-01-01T12-00-00",         // Bad time separator.
           "2024-01-01T12:0a",            // Bad digit.
           "2024-01-01T1a:00",            // Bad hour digit.
           "2024-01-01T12:00:00.",        // Empty fraction.
           "2024-01-01T12:00:00.Z",       // Empty fraction, zone.
           "2024-01-01T12:00:00ZZ",       // Trailing garbage.
           "2024-01-01T12:00:00Z ",       // Trailing space.
           "2024-01-01T12:00:00 ",        // Trailing space.
           "2024-01-01T12:00:00x",        // Trailing letter.
           "2024-01-01T12:00:00+05:30x",  // After offset.
           "2024-01-01T12:00:00+5",       // Short offset.
           "2024-01-01T12:00:00+05",      // Hours-only offset.
           "2024-01-01T12:00:00+05:3",    // Short minutes.
           "2024-01-01T12:00:00+053",     // Short minutes.
           "2024-01-01T12:00:00+24:00",   // Offset hour 24.
           "2024-01-01T12:00:00+05:60",   // Offset minute 60.
           "2024-01-01T12:00:00+05::30",  // Two colons.
           "2024-01-01T12:00:00z",        // Lowercase zone.
           "2024-01-01T12:00:00 UTC",     // Zone names.
           "2023-02-29T12:00:00",         // The date does not exist.
           "2024-13-01T12:00:00",         // Month 13.
           "2024-1-01T12:00:00",          // Wrong date length.
           "24-01-01T12:00:00",           // Two-digit year.
       }) {
    EXPECT_EQ(ParseIsoTimestamp(text), std::nullopt) << "'" << text << "'";
  }
}

// ---------------------------------------------------------------------------
// Formatting

TEST(FormatIsoDateTest, KnownValues) {
  EXPECT_EQ(FormatIsoDate(0), "1970-01-01");
  EXPECT_EQ(FormatIsoDate(-1), "1969-12-31");
  EXPECT_EQ(FormatIsoDate(11017), "2000-03-01");
  EXPECT_EQ(FormatIsoDate(19782), "2024-02-29");
  EXPECT_EQ(FormatIsoDate(-25567), "1900-01-01");
  EXPECT_EQ(FormatIsoDate(-719162), "0001-01-01");
  EXPECT_EQ(FormatIsoDate(2932896), "9999-12-31");
}

TEST(FormatIsoDateTest, RoundTripsEveryDayFromYear1To9999) {
  for (int64_t days = -719162; days <= 2932896; ++days) {
    std::string text = FormatIsoDate(days);
    std::optional<int64_t> back = ParseIsoDate(text);
    ASSERT_EQ(back, days) << text;
  }
}

TEST(FormatIsoTimestampTest, KnownValues) {
  EXPECT_EQ(FormatIsoTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoTimestamp(1), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(FormatIsoTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatIsoTimestamp(-kMicrosPerDay), "1969-12-31T00:00:00Z");
  EXPECT_EQ(FormatIsoTimestamp(-kMicrosPerDay - 1), "1969-12-30T23:59:59.999999Z");
  EXPECT_EQ(FormatIsoTimestamp(1709210096000000), "2024-02-29T12:34:56Z");
  EXPECT_EQ(FormatIsoTimestamp(1709210096123000), "2024-02-29T12:34:56.123000Z");
  EXPECT_EQ(FormatIsoTimestamp(-14182940000000), "1969-07-20T20:17:40Z");
  EXPECT_EQ(FormatIsoTimestamp(-152668799750000), "1965-03-01T00:00:00.250000Z");
}

TEST(FormatIsoTimestampTest, RoundTrips) {
  for (const char* text : {
           "1970-01-01T00:00:00Z",
           "2024-02-29T12:34:56Z",
           "2024-02-29T23:59:59.999999Z",
           "2026-11-26T08:22:13.123456Z",
           "1969-12-31T23:59:59.000001Z",
           "1900-01-01T00:00:00Z",
           "0001-01-01T00:00:00Z",
           "9999-12-31T23:59:59.999999Z",
       }) {
    std::optional<int64_t> micros = ParseIsoTimestamp(text);
    ASSERT_TRUE(micros.has_value()) << text;
    EXPECT_EQ(FormatIsoTimestamp(*micros), text);
  }
  // And from numbers: a sweep over both sides of the epoch, odd steps so that
  // every field varies.
  // (-6.2e16 is in year 5, 2.5e17 in year 9892.)
  for (int64_t micros = -62'000'000'000'000'000; micros < 250'000'000'000'000'000;
       micros += 7'777'777'777'777) {
    for (int64_t delta : {int64_t{0}, int64_t{1}, int64_t{-1}, kMinute}) {
      int64_t value = micros + delta;
      std::string text = FormatIsoTimestamp(value);
      ASSERT_EQ(ParseIsoTimestamp(text), value) << text;
    }
  }
}

TEST(FormatIsoTimestampTest, OffsetInputFormatsInUtc) {
  EXPECT_EQ(FormatIsoTimestamp(*ParseIsoTimestamp("2024-01-01T10:00:00+05:30")),
            "2024-01-01T04:30:00Z");
  EXPECT_EQ(FormatIsoTimestamp(*ParseIsoTimestamp("2024-01-01 10:00-0800")),
            "2024-01-01T18:00:00Z");
}

}  // namespace
}  // namespace mloop
