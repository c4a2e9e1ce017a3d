#include "http_request.hpp"

namespace lab::demos {

http_request_reader::http_request_reader(std::size_t max_body) : max_body_(max_body) {
  http_parser_settings_init(&settings_);
  settings_.on_url = &http_request_reader::on_url;
  settings_.on_body = &http_request_reader::on_body;
  settings_.on_message_complete = &http_request_reader::on_complete;
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

int http_request_reader::on_url(http_parser* parser, const char* at, std::size_t length) {
  static_cast<http_request_reader*>(parser->data)->url_.append(at, length);  // may come in pieces
  return 0;
}

int http_request_reader::on_body(http_parser* parser, const char* at, std::size_t length) {
  auto* self = static_cast<http_request_reader*>(parser->data);
  if (self->current_.body.size() + length > self->max_body_) return 1;  // stops the parser
  self->current_.body.append(at, length);
  return 0;
}

int http_request_reader::on_complete(http_parser* parser) {
  auto* self = static_cast<http_request_reader*>(parser->data);
  http_request& r = self->current_;
  r.method = http_method_str(static_cast<http_method>(parser->method));
  const auto question = self->url_.find('?');
  r.path = self->url_.substr(0, question);
  r.query = question == std::string::npos ? "" : self->url_.substr(question + 1);
  r.keep_alive = http_should_keep_alive(parser) != 0;
  self->complete_ = std::move(r);
  self->current_ = {};
  self->url_.clear();
  http_parser_pause(parser, 1);  // one request at a time: the rest waits in pending_
  return 0;
}

void http_request_reader::parse_pending() {
  if (complete_ || pending_.empty()) return;
  const std::size_t parsed =
      http_parser_execute(&parser_, &settings_, pending_.data(), pending_.size());
  const http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (error == HPE_PAUSED) {
    http_parser_pause(&parser_, 0);
    pending_.erase(0, parsed);
    return;
  }
  if (error == HPE_CB_body) throw bad_request("a request body over " + std::to_string(max_body_) + " bytes");
  if (error != HPE_OK)
    throw bad_request(std::string("not an HTTP request: ") + http_errno_description(error));
  pending_.erase(0, parsed);
}

void http_request_reader::feed(std::string_view bytes) {
  pending_.append(bytes);
  parse_pending();
}

std::optional<http_request> http_request_reader::next() {
  parse_pending();
  std::optional<http_request> request = std::exchange(complete_, std::nullopt);
  if (request) parse_pending();  // a pipelined request may be complete already
  return request;
}

std::string query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

}  // namespace lab::demos
