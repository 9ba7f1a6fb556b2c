// report.html in a real browser (label `browser`): headless Chromium renders
// the page; the screenshot must not be blank and the console must stay quiet.
// The page has a Content-Security-Policy of default-src 'none', so a stray
// network reference or script would log a console message. The last test
// shows both checks catch what they are meant to catch.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "reports/html_writer.h"
#include "tests/reports/png_image.h"
#include "tests/reports/sample_report.h"

namespace {

namespace fs = std::filesystem;
using namespace editgate::reports::testing;

struct Rendering {
  std::vector<std::string> console;  // console messages the page produced
  double ink = 0;                    // fraction of pixels that are not white
  size_t colours = 0;                // distinct colours in the screenshot
};

Rendering render(const std::string& html, const std::string& name) {
  const fs::path dir = fresh_temp_dir("browser_" + name);
  const fs::path page = dir / "report.html", png = dir / "shot.png";
  std::ofstream(page) << html;
  const std::string cmd = "timeout 120 " + std::string(EDITGATE_CHROMIUM) +
                          " --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
                          " --disable-extensions --hide-scrollbars --enable-logging=stderr --v=0"
                          " --user-data-dir='" + (dir / "profile").string() + "' --window-size=1280,1800"
                          " --screenshot='" + png.string() + "' 'file://" + page.string() + "'";
  const auto r = run_command(cmd);
  Rendering out;
  if (r.exit_code == 127) {  // the shell found no such command
    ADD_FAILURE() << "cannot run " << EDITGATE_CHROMIUM << " (Debian package chromium; scripts/setup.sh installs it)";
    return out;
  }
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(":CONSOLE") != std::string::npos) out.console.push_back(line);
  }
  const auto img = read_png(png);
  EXPECT_GT(img.width, 0);
  std::set<uint32_t> colours;
  size_t ink = 0;
  for (size_t i = 0; i + 2 < img.rgb.size(); i += 3) {
    const uint8_t r8 = img.rgb[i], g8 = img.rgb[i + 1], b8 = img.rgb[i + 2];
    ink += (r8 < 250 || g8 < 250 || b8 < 250) ? 1 : 0;
    colours.insert((uint32_t{r8} << 16) | (uint32_t{g8} << 8) | b8);
  }
  out.ink = img.rgb.empty() ? 0 : static_cast<double>(ink) / static_cast<double>(img.rgb.size() / 3);
  out.colours = colours.size();
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

TEST(HtmlBrowser, ReportRendersWithoutConsoleErrors) {
  const auto shot = render(editgate::reports::report_html(sample_report(false)), "report");
  EXPECT_TRUE(shot.console.empty()) << join(shot.console);
  EXPECT_GT(shot.ink, 0.03) << "screenshot is (nearly) blank";
  EXPECT_GT(shot.colours, 50u) << "too few colours for a page with a heatmap and charts";
}

TEST(HtmlBrowser, ChecksCatchConsoleErrorsAndBlankPages) {
  // A network reference under the report's policy logs a console message...
  std::string html = editgate::reports::report_html(sample_report(true));
  html.insert(html.find("</body>"), "<img src=\"http://example.invalid/logo.png\" alt=\"\"/>");
  const auto leaky = render(html, "leaky");
  ASSERT_FALSE(leaky.console.empty());
  EXPECT_NE(leaky.console.front().find("Content Security Policy"), std::string::npos) << join(leaky.console);
  // ...and an empty page reads as blank.
  const auto blank = render("<!DOCTYPE html><html><head><meta charset=\"utf-8\"/></head><body></body></html>", "blank");
  EXPECT_TRUE(blank.console.empty()) << join(blank.console);
  EXPECT_LT(blank.ink, 0.001);
}

}  // namespace
