/* golden: text renderings compared with committed golden files under tests/fixtures/ui/, shared
 * by the UI suites. DLLAB_UPDATE_GOLDEN=1 rewrites the file from the rendering first (so a
 * deliberate change is one run away); otherwise a missing or different file fails the current
 * check test, naming the file and the first differing line. */
#ifndef DL_TESTS_GOLDEN_H
#define DL_TESTS_GOLDEN_H

/* Compares text with tests/fixtures/ui/<name>. */
void tu_assert_golden(const char *name, const char *text);

#endif
