#include "http_response.hpp"

namespace lab::demos {

http_response::http_response() {
  http_parser_settings_init(&settings_);
  settings_.on_body = &http_response::on_body;
  settings_.on_message_complete = &http_response::on_complete;
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
}

int http_response::on_body(http_parser* parser, const char* at, std::size_t length) {
  static_cast<http_response*>(parser->data)->body_.append(at, length);
  return 0;
}

int http_response::on_complete(http_parser* parser) {
  auto* self = static_cast<http_response*>(parser->data);
  self->status_ = static_cast<int>(parser->status_code);
  self->complete_ = true;
  return 0;
}

void http_response::check(std::size_t parsed, std::size_t given) const {
  if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK || parsed != given)
    throw std::runtime_error(std::string("a malformed HTTP response: ") +
                             http_errno_description(HTTP_PARSER_ERRNO(&parser_)));
}

void http_response::feed(std::string_view bytes) {
  if (complete_ || bytes.empty()) return;
  check(http_parser_execute(&parser_, &settings_, bytes.data(), bytes.size()), bytes.size());
}

void http_response::end_of_stream() {
  if (complete_) return;
  check(http_parser_execute(&parser_, &settings_, nullptr, 0), 0);
  if (!complete_) throw std::runtime_error("the connection closed before the response was complete");
}

}  // namespace lab::demos
