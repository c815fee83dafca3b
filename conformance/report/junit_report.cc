#include "conformance/report/junit_report.h"

#include <cstdio>

#include "conformance/cases/text.h"

namespace nsmcert::conformance {
namespace {

std::string Seconds(absl::Duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", DurationSeconds(d));
  return buffer;
}

std::string Body(const CaseResult& c) {
  std::string body = c.message;
  for (const std::string& detail : c.details) {
    if (detail != c.message) Append(body, "\n", detail);
  }
  return body;
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // Copy a well-formed UTF-8 sequence; replace anything else, since an XML parser rejects
      // the whole file for one bad byte.
      const std::size_t length = c >= 0xF0 && c <= 0xF4   ? 4
                                 : c >= 0xE0              ? 3
                                 : c >= 0xC2 && c <= 0xDF ? 2
                                                          : 0;
      bool valid = length != 0 && i + length <= text.size();
      for (std::size_t k = 1; valid && k < length; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      }
      if (valid && length == 3) {
        const unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
        valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogate
        // U+FFFE and U+FFFF are not XML characters either.
        valid =
            valid && !(c == 0xEF && c1 == 0xBF && static_cast<unsigned char>(text[i + 2]) >= 0xBE);
      }
      if (valid && length == 4) {
        const unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
        valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
      }
      if (valid) {
        out.append(text.substr(i, length));
        i += length;
      } else {
        out += kReplacement;
        ++i;
      }
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += "&#10;";  // kept inside attributes, where a raw newline would be normalised away
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += kReplacement;  // control characters are not allowed (or not wanted) in XML 1.0
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out;
}

std::string RenderJunit(const RunResult& result) {
  const RunSummary summary = Summarize(result);
  const int failures = summary.count(CaseStatus::kFail);
  const int errors = summary.count(CaseStatus::kError);
  const int skipped = summary.count(CaseStatus::kSkip) + summary.count(CaseStatus::kNotApplicable);
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  Append(xml, "<testsuites name=\"nsmcert\" tests=\"", summary.total, "\" failures=\"", failures,
         "\" errors=\"", errors, "\" skipped=\"", skipped, "\" time=\"",
         Seconds(result.finished - result.started), "\" timestamp=\"",
         FormatTimestamp(result.started), "\">\n");
  for (const AreaSummary& area : summary.areas) {
    const std::string area_name(AreaName(area.area));
    Append(xml, "  <testsuite name=\"", XmlEscape(area_name), "\" tests=\"", area.cases,
           "\" failures=\"", area.counts[static_cast<std::size_t>(CaseStatus::kFail)],
           "\" errors=\"", area.counts[static_cast<std::size_t>(CaseStatus::kError)],
           "\" skipped=\"",
           area.counts[static_cast<std::size_t>(CaseStatus::kSkip)] +
               area.counts[static_cast<std::size_t>(CaseStatus::kNotApplicable)],
           "\" time=\"", Seconds(area.wall_time), "\">\n");
    Append(xml, "    <properties>\n", "      <property name=\"product\" value=\"",
           XmlEscape(result.manifest.product), "\"/>\n",
           "      <property name=\"product_version\" value=\"", XmlEscape(result.manifest.version),
           "\"/>\n", "      <property name=\"profile\" value=\"", ProfileName(result.profile),
           "\"/>\n", "    </properties>\n");
    for (const CaseResult& c : result.cases) {
      if (c.info.area != area.area) continue;
      Append(xml, "    <testcase classname=\"nsmcert.", XmlEscape(area_name), "\" name=\"",
             XmlEscape(Cat(c.info.id, " [", LevelName(c.info.level), "] ", c.info.title)),
             "\" time=\"", Seconds(c.duration), "\"");
      std::string inner;
      switch (c.status) {
        case CaseStatus::kPass:
          break;
        case CaseStatus::kFail:
          Append(inner, "      <failure message=\"", XmlEscape(c.message), "\" type=\"",
                 LevelName(c.info.level), "\">", XmlEscape(Body(c)), "</failure>\n");
          break;
        case CaseStatus::kError:
          Append(inner, "      <error message=\"", XmlEscape(c.message), "\" type=\"harness\">",
                 XmlEscape(Body(c)), "</error>\n");
          break;
        case CaseStatus::kSkip:
          Append(inner, "      <skipped message=\"", XmlEscape(c.message), "\"/>\n");
          break;
        case CaseStatus::kNotApplicable:
          Append(inner, "      <skipped message=\"", XmlEscape(Cat("not applicable: ", c.message)),
                 "\"/>\n");
          break;
      }
      if (!c.evidence.empty()) {
        std::string out = "evidence:";
        for (const Evidence& e : c.evidence) Append(out, "\n  ", e.path);
        Append(inner, "      <system-out>", XmlEscape(out), "</system-out>\n");
      }
      if (inner.empty()) {
        xml += "/>\n";
      } else {
        Append(xml, ">\n", inner, "    </testcase>\n");
      }
    }
    xml += "  </testsuite>\n";
  }
  xml += "</testsuites>\n";
  return xml;
}

}  // namespace nsmcert::conformance
