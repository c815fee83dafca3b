#include "conformance/report/xml_check.h"

#include <cstdint>

#include "conformance/cases/text.h"

namespace nsmcert::conformance::testing {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<XmlElement> Document() {
    if (absl::Status s = CheckCharacters(); !s.ok()) return s;
    SkipSpace();
    if (text_.substr(at_, 5) == "<?xml") {
      const std::size_t end = text_.find("?>", at_);
      if (end == std::string_view::npos) return Error("unterminated XML declaration");
      at_ = end + 2;
    }
    SkipSpace();
    XmlElement root;
    if (absl::Status s = Element(root); !s.ok()) return s;
    SkipSpace();
    if (at_ != text_.size()) return Error("content after the root element");
    return root;
  }

 private:
  absl::Status CheckCharacters() {
    for (std::size_t i = 0; i < text_.size();) {
      const unsigned char c = static_cast<unsigned char>(text_[i]);
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
        return absl::InvalidArgumentError(Cat("control character at byte ", i));
      }
      std::size_t length = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      if (length == 0 || i + length > text_.size()) {
        return absl::InvalidArgumentError(Cat("malformed UTF-8 at byte ", i));
      }
      for (std::size_t k = 1; k < length; ++k) {
        if ((static_cast<unsigned char>(text_[i + k]) & 0xC0) != 0x80) {
          return absl::InvalidArgumentError(Cat("malformed UTF-8 at byte ", i));
        }
      }
      i += length;
    }
    return absl::OkStatus();
  }

  absl::Status Error(std::string_view message) const {
    return absl::InvalidArgumentError(Cat(message, " at byte ", at_));
  }

  void SkipSpace() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\t' || text_[at_] == '\r')) {
      ++at_;
    }
  }

  absl::StatusOr<std::string> Name() {
    const std::size_t start = at_;
    while (at_ < text_.size() && IsNameChar(text_[at_])) ++at_;
    if (at_ == start) return Error("expected a name");
    return std::string(text_.substr(start, at_ - start));
  }

  // Decodes character data up to `stop` (exclusive), checking entities.
  absl::Status Decode(std::string_view raw, std::string& out) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (c == '<') return Error("'<' in character data");
      if (c != '&') {
        out += c;
        continue;
      }
      const std::size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos) return Error("unterminated entity");
      const std::string_view entity = raw.substr(i + 1, semi - i - 1);
      if (entity == "amp") {
        out += '&';
      } else if (entity == "lt") {
        out += '<';
      } else if (entity == "gt") {
        out += '>';
      } else if (entity == "quot") {
        out += '"';
      } else if (entity == "apos") {
        out += '\'';
      } else if (entity.size() > 1 && entity[0] == '#') {
        const bool hex = entity[1] == 'x';
        std::uint32_t cp = 0;
        const std::string_view digits = entity.substr(hex ? 2 : 1);
        if (digits.empty()) return Error("empty character reference");
        for (char d : digits) {
          int v = d >= '0' && d <= '9'          ? d - '0'
                  : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                  : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
                                                : -1;
          if (v < 0) return Error("bad character reference");
          cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
          if (cp > 0x10FFFF) return Error("character reference out of range");
        }
        if (cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD) {
          return Error("character reference to a control character");
        }
        AppendUtf8(out, cp);
      } else {
        return Error(Cat("unknown entity &", entity, ";"));
      }
      i = semi;
    }
    return absl::OkStatus();
  }

  absl::Status Element(XmlElement& element) {
    if (at_ >= text_.size() || text_[at_] != '<') return Error("expected '<'");
    ++at_;
    auto name = Name();
    if (!name.ok()) return name.status();
    element.name = *name;
    while (true) {
      SkipSpace();
      if (at_ >= text_.size()) return Error("unterminated start tag");
      if (text_.substr(at_, 2) == "/>") {
        at_ += 2;
        return absl::OkStatus();
      }
      if (text_[at_] == '>') {
        ++at_;
        break;
      }
      auto attribute = Name();
      if (!attribute.ok()) return attribute.status();
      SkipSpace();
      if (at_ >= text_.size() || text_[at_] != '=') return Error("expected '='");
      ++at_;
      SkipSpace();
      if (at_ >= text_.size() || (text_[at_] != '"' && text_[at_] != '\'')) {
        return Error("attribute value must be quoted");
      }
      const char quote = text_[at_++];
      const std::size_t end = text_.find(quote, at_);
      if (end == std::string_view::npos) return Error("unterminated attribute value");
      std::string value;
      if (absl::Status s = Decode(text_.substr(at_, end - at_), value); !s.ok()) return s;
      if (!element.attributes.emplace(*attribute, value).second) {
        return Error(Cat("attribute ", *attribute, " repeated"));
      }
      at_ = end + 1;
    }
    // Content.
    while (true) {
      const std::size_t lt = text_.find('<', at_);
      if (lt == std::string_view::npos) return Error(Cat("element ", element.name, " not closed"));
      if (absl::Status s = Decode(text_.substr(at_, lt - at_), element.text); !s.ok()) return s;
      at_ = lt;
      if (text_.substr(at_, 2) == "</") {
        at_ += 2;
        auto closing = Name();
        if (!closing.ok()) return closing.status();
        if (*closing != element.name) {
          return Error(Cat("</", *closing, "> closes <", element.name, ">"));
        }
        SkipSpace();
        if (at_ >= text_.size() || text_[at_] != '>') return Error("expected '>'");
        ++at_;
        return absl::OkStatus();
      }
      if (text_.substr(at_, 2) == "<!" || text_.substr(at_, 2) == "<?") {
        return Error("comments, CDATA and processing instructions are not expected");
      }
      XmlElement child;
      if (absl::Status s = Element(child); !s.ok()) return s;
      element.children.push_back(std::move(child));
    }
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

void Collect(const XmlElement& element, std::string_view name,
             std::vector<const XmlElement*>& out) {
  for (const XmlElement& child : element.children) {
    if (child.name == name) out.push_back(&child);
    Collect(child, name, out);
  }
}

}  // namespace

std::vector<const XmlElement*> XmlElement::FindAll(std::string_view name) const {
  std::vector<const XmlElement*> out;
  Collect(*this, name, out);
  return out;
}

absl::StatusOr<XmlElement> ParseXml(std::string_view text) { return Parser(text).Document(); }

}  // namespace nsmcert::conformance::testing
