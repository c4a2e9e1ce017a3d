// The counting servers' answer: "<N, took X ms>\n", then the server hangs up.
#pragma once

#include <chrono>

namespace lab::demos {

// Sends the answer on `client` (a client already gone is no concern of ours).
void reply_with_number(int client, long number, std::chrono::steady_clock::duration took);

}  // namespace lab::demos
