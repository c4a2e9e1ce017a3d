#include "counting_reply.hpp"

#include <fmt/core.h>

#include <lab/net/socket.hpp>

namespace lab::demos {

void reply_with_number(int client, long number, std::chrono::steady_clock::duration took) {
  const auto text = fmt::format("<{}, took {:.1f} ms>\n", number,
                                std::chrono::duration<double, std::milli>(took).count());
  net::send_all(client, text);
}

}  // namespace lab::demos
