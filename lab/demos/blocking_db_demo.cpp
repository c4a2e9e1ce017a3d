// green.blocking_db: the database driver problem, and its usual way out.
//
// lesson: green-threads, slide "The database driver problem"
//
// A small server of greenlets on this thread (patched recv/send, as in
// echo.green): a client's "ping" is answered at once, a client's "query"
// runs a slow query on a real SQLite database (a file in /tmp; SQLite's C
// code blocks, as the lecture's MySQL driver does). Three client threads
// ping the server every few milliseconds while a fourth asks for the query.
//
// Run twice:
//   blocking   the handler calls SQLite directly: while the query runs, the
//              one thread is inside SQLite and no ping is answered; the
//              hub's watchdog names the greenlet that kept it.
//   in a thread the handler hands the query to a thread pool and waits for
//              it cooperatively (lab/green_offload.hpp): pings are answered
//              all along.
// The figures: the query's time, the pings answered while it ran, and the
// longest ping round trip. The claim is stated only when the figures show it.
#include <fmt/core.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <lab/green.hpp>
#include <lab/green_offload.hpp>
#include <lab/green_patch.hpp>
#include <lab/net/socket.hpp>
#include <lab/thread_pool.hpp>

#include "demo.hpp"
#include "scratch_folder.hpp"
#include "echo_clients.hpp"  // ms_between

namespace lab::demos {
namespace {

namespace fs = std::filesystem;
using db_clock = std::chrono::steady_clock;

// A connection to the demo's database file, closed when it goes.
struct database {
  sqlite3* handle = nullptr;
  explicit database(const fs::path& file) {
    if (sqlite3_open(file.c_str(), &handle) != SQLITE_OK)
      throw std::runtime_error("cannot open the database " + file.string() + ": " +
                               sqlite3_errmsg(handle));
  }
  ~database() { sqlite3_close(handle); }
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  // One number from a query's first row.
  long long number(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("SQLite: ") + sqlite3_errmsg(handle));
    long long value = -1;
    if (sqlite3_step(statement) == SQLITE_ROW) value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
  }
  void run(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string why = error != nullptr ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error("SQLite: " + why);
    }
  }
};

// The slow query: pairs of rows whose sum is a multiple of 7, over the first
// `rows` rows of each side. SQLite computes it in its C code, on the
// calling thread, with no way to give the thread away meanwhile.
long long slow_query(const fs::path& file, long rows) {
  database db(file);
  return db.number(fmt::format(
      "SELECT count(*) FROM items a JOIN items b ON (a.n + b.n) % 7 = 0 WHERE a.n < {0} AND b.n < {0}",
      rows));
}

// The rows per side that make the query take about `target` here, measured.
long calibrate(const fs::path& file, std::chrono::milliseconds target) {
  long rows = 500;
  for (;;) {
    const auto start = db_clock::now();
    slow_query(file, rows);
    const double took = ms_between(start, db_clock::now());
    if (took > static_cast<double>(target.count()) / 4 || rows >= 20'000) {
      // The work grows as rows squared.
      const double scale = std::sqrt(static_cast<double>(target.count()) / std::max(took, 0.01));
      return std::clamp(static_cast<long>(static_cast<double>(rows) * scale), 100L, 20'000L);
    }
    rows *= 2;
  }
}

struct run_figures {
  double query_ms = 0;
  long long query_answer = -1;
  long pings_during = 0;   // answered while the query ran
  double worst_ping_ms = 0;
  std::vector<green::stall_seen> stalls;
};

// Reads one line (without its '\n') from a blocking socket; "" at the end.
std::string read_line(int fd) {
  std::string line;
  char c;
  while (net::recv_some(fd, {&c, 1}).status == net::io_status::ok) {
    if (c == '\n') return line;
    line += c;
  }
  return line;
}

run_figures run_once(const fs::path& file, long rows, bool offload) {
  run_figures figures;
  net::listener listener = net::listen_loopback();
  thread_pool pool(1);
  std::atomic<bool> finished{false};
  std::atomic<int> pinging{0};  // ping clients that got their first answer
  std::mutex mu;                // guards `pings`
  std::vector<std::pair<db_clock::time_point, db_clock::time_point>> pings;  // sent, answered
  db_clock::time_point query_started, query_ended;

  // The clients: real threads with blocking sockets, outside the hub.
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i)
    clients.emplace_back([&] {
      const unique_fd connection = net::connect_loopback(listener.port);
      for (bool first = true; !finished.load(); first = false) {
        const auto sent = db_clock::now();
        if (!net::send_all(connection.get(), "ping\n") || read_line(connection.get()) != "pong") break;
        const auto answered = db_clock::now();
        if (first) ++pinging;
        {
          const std::lock_guard lock(mu);
          pings.emplace_back(sent, answered);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
      }
    });
  clients.emplace_back([&] {
    // Connects once every ping client is being served: so it is the fourth
    // client the server accepts, the one its handler is named for.
    for (int i = 0; i < 10'000 && pinging.load() < 3; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const unique_fd connection = net::connect_loopback(listener.port);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a few pings before
    query_started = db_clock::now();
    net::send_all(connection.get(), "query\n");
    const std::string answer = read_line(connection.get());
    query_ended = db_clock::now();
    if (answer.rfind("rows ", 0) == 0) figures.query_answer = std::stoll(answer.substr(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // and a few after
    finished.store(true);
  });

  // The server: greenlets on this thread.
  green::patch_all();
  green::spawn_named("acceptor", [&] {
    std::vector<green::greenlet<void>> handlers;
    for (int accepted = 0; accepted < 4; ++accepted) {
      green::wait_readable(listener.fd.get());  // accept() below then returns at once
      auto client = std::make_shared<unique_fd>(net::accept_client(listener.fd.get()));
      const bool query_client = accepted == 3;
      handlers.push_back(green::spawn_named(query_client ? "query handler" : "ping handler",
                                            [client, &file, rows, offload, &pool] {
        for (std::string line; !(line = read_line(client->get())).empty();) {
          if (line == "ping") {
            net::send_all(client->get(), "pong\n");
          } else {
            const long long found = offload
                ? green::call_in_thread(pool, [&file, rows] { return slow_query(file, rows); })
                : slow_query(file, rows);  // SQLite's C code: the whole thread waits
            net::send_all(client->get(), fmt::format("rows {}\n", found));
          }
        }
      }));
    }
    for (auto& h : handlers) h.join();
  });
  green::run();
  figures.stalls = green::stalls();
  green::unpatch_all();
  for (auto& c : clients) c.join();
  figures.query_ms = ms_between(query_started, query_ended);
  // The pings the query overlapped: how many were answered while it ran,
  // and the longest round trip of any that was in flight meanwhile.
  for (const auto& [sent, answered] : pings) {
    if (sent > query_ended || answered < query_started) continue;
    if (answered <= query_ended) ++figures.pings_during;
    figures.worst_ping_ms = std::max(figures.worst_ping_ms, ms_between(sent, answered));
  }
  return figures;
}

int blocking_db(const params& p) {
  const auto target = std::chrono::milliseconds(p.number("query_ms"));
  const auto scratch = scratch_folder::make("db");
  if (!scratch) {
    fmt::print(stderr, "green.blocking_db: cannot make a temporary folder in /tmp\n");
    return 3;
  }
  const fs::path file = scratch->path() / "shop.db";
  {
    database db(file);
    db.run("CREATE TABLE items(n INTEGER); BEGIN;"
           "WITH RECURSIVE c(n) AS (VALUES(0) UNION ALL SELECT n + 1 FROM c WHERE n < 19999)"
           " INSERT INTO items SELECT n FROM c; COMMIT;");
  }
  const long rows = calibrate(file, target);
  fmt::print("A SQLite database of 20,000 rows ({}); the slow query joins {} rows with {}.\n"
             "Three clients ping the greenlet server every 3 ms while a fourth asks for the query.\n\n",
             file.filename().string(), rows, rows);
  std::fflush(stdout);

  const run_figures blocked = run_once(file, rows, false);
  const run_figures offloaded = run_once(file, rows, true);
  fmt::print("  {:<34} {:>9} {:>16} {:>16}\n", "the handler runs the query", "query",
             "pings answered", "longest ping");
  fmt::print("  {:<34} {:>9} {:>16} {:>16}\n", "", "", "while it ran", "round trip");
  for (const auto& [label, f] : {std::pair{"itself (SQLite blocks the thread)", &blocked},
                                 std::pair{"in a thread, waited for green", &offloaded}})
    fmt::print("  {:<34} {:>6.0f} ms {:>16} {:>13.1f} ms\n", label, f->query_ms, f->pings_during,
               f->worst_ping_ms);
  for (const auto& s : blocked.stalls)
    fmt::print("The hub's watchdog: greenlet '{}' kept the thread for {} ms without a switch.\n",
               s.greenlet, s.duration.count());
  fmt::print("\n");

  report_metric("blocking_worst_ping_ms", blocked.worst_ping_ms, "ms");
  report_metric("offloaded_worst_ping_ms", offloaded.worst_ping_ms, "ms");
  const bool same_answer = blocked.query_answer >= 0 && blocked.query_answer == offloaded.query_answer;
  // Shown when the blocking run froze the pings for most of its query and
  // the thread-pool run answered pings all along, with a ping round trip
  // well under the query's time.
  const bool froze = blocked.worst_ping_ms > 0.5 * blocked.query_ms;
  const bool served = offloaded.pings_during >= 3 && offloaded.worst_ping_ms < 0.5 * offloaded.query_ms;
  if (same_answer && froze && served)
    fmt::print(
        "Run by the handler, the query froze every greenlet: no ping was answered until SQLite\n"
        "returned ({:.0f} ms of silence). Run in a thread, with the handler waiting for it like\n"
        "for a socket, the other clients were served all along (longest ping {:.1f} ms).\n",
        blocked.worst_ping_ms, offloaded.worst_ping_ms);
  else
    fmt::print("This run did not show it cleanly (same answer: {}; pings frozen while blocking: {};"
               " served while in a thread: {}): the machine may be busy; run it again.\n",
               same_answer ? "yes" : "no", froze ? "yes" : "no", served ? "yes" : "no");
  return 0;
}

const registration blocking_db_registration{
    {.name = "green.blocking_db",
     .summary = "a slow SQLite query freezes every greenlet; run in a thread, it does not",
     .params = {param::number("query_ms", 300, {50, 5000})},
     .run = blocking_db}};

}  // namespace
}  // namespace lab::demos
