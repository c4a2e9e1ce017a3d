// HTTP requests read piece by piece from a connection, one at a time: the
// comet chat server (servers/comet_chat.cpp) feeds it whatever each recv()
// returned and takes each request as it completes. The parsing is the
// http-parser library's (Debian's libhttp-parser-dev): request lines,
// headers, Content-Length and chunked bodies, keep-alive, and the errors of
// a malformed request.
//
// Requests a client sends back to back (pipelining) are handed out one by
// one: the parser stops at the end of each, and the bytes after it wait for
// the next call to next().
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lab::demos {

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // "/poll"
  std::string query;   // "since=3" (after the '?'; "" if none)
  std::string body;
  bool keep_alive = false;  // the client wants the connection kept open after the response
};

// Thrown for bytes that are not HTTP, or a body over the limit.
class bad_request : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class http_request_reader {
 public:
  explicit http_request_reader(std::size_t max_body = 64 * 1024);
  http_request_reader(const http_request_reader&) = delete;
  http_request_reader& operator=(const http_request_reader&) = delete;

  // Adds bytes received. Throws bad_request on a malformed request.
  void feed(std::string_view bytes);
  // The next complete request, if one is in; nullopt until then.
  std::optional<http_request> next();

 private:
  static int on_url(http_parser* parser, const char* at, std::size_t length);
  static int on_body(http_parser* parser, const char* at, std::size_t length);
  static int on_complete(http_parser* parser);
  void parse_pending();

  http_parser parser_{};
  http_parser_settings settings_{};
  std::size_t max_body_;
  std::string url_;
  http_request current_;
  std::optional<http_request> complete_;
  std::string pending_;  // bytes received after a complete request
};

// The value of `key` in a query string ("since=3&x=1"), or "".
std::string query_value(std::string_view query, std::string_view key);

}  // namespace lab::demos
