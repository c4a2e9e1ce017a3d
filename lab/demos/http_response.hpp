// An HTTP response read piece by piece, as it arrives on a non-blocking
// socket: the event-loop clients of download.compare feed it whatever each
// recv() returned, and it says when the whole response is in. The parsing
// itself is the http-parser library's (Debian's libhttp-parser-dev): it
// handles Content-Length, chunked bodies and bodies that end with the
// connection, so the clients stay small.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lab::demos {

class http_response {
 public:
  http_response();
  http_response(const http_response&) = delete;
  http_response& operator=(const http_response&) = delete;

  // Feeds bytes received; throws std::runtime_error with the parser's words
  // on a malformed response.
  void feed(std::string_view bytes);
  // The peer closed the connection: the end of a body without a length.
  void end_of_stream();

  bool complete() const { return complete_; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }

 private:
  static int on_body(http_parser* parser, const char* at, std::size_t length);
  static int on_complete(http_parser* parser);
  void check(std::size_t parsed, std::size_t given) const;

  http_parser parser_{};
  http_parser_settings settings_{};
  std::string body_;
  int status_ = 0;
  bool complete_ = false;
};

}  // namespace lab::demos
