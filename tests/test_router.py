"""Router: intent from wording, experts from intent, explicit experts win."""

from git_ml.routing.router import classify_intent, route

TRACE = '''Traceback (most recent call last):
  File "src/app.py", line 3, in <module>
    main()
ValueError: bad value'''


def test_intents_from_wording():
    assert classify_intent(TRACE) == "debug_error"
    assert classify_intent("KeyError: 'user' when saving") == "debug_error"
    assert classify_intent("add tests for the parser") == "add_tests"
    assert classify_intent("update the README install section") == "update_docs"
    assert classify_intent("rename Session.send to Session.dispatch") == "refactor"
    assert classify_intent("extract the retry loop into a helper") == "refactor"
    assert classify_intent("fix crash on empty header") == "fix_bug"
    assert classify_intent("support HTTP/3 proxies") == "implement_feature"
    assert classify_intent(None, ["a.py"]) == "review_change"
    assert classify_intent("   ") == "implement_feature"


def test_bug_reports_that_name_no_bug_are_fixes():
    assert classify_intent("progress bar does not render correctly in narrow terminals") == "fix_bug"
    assert classify_intent("bash shell completion breaks on paths with spaces") == "fix_bug"
    assert classify_intent("prompt with hide_input=True still echoes") == "fix_bug"
    assert classify_intent("echo prints bytes wrongly on windows") == "fix_bug"
    assert classify_intent("debugger PIN is not shown when the terminal is not interactive") == "fix_bug"
    assert classify_intent("cookies are no longer sent after a redirect") == "fix_bug"
    assert classify_intent("the reloader can't see files in a symlinked folder") == "fix_bug"
    assert classify_intent("support colors in the pager") == "implement_feature"


def test_the_earliest_cue_states_the_intent():
    assert classify_intent("fix the transcript parser when one message is split over lines") == "fix_bug"
    assert classify_intent("split the parser module and fix its imports") == "refactor"
    assert classify_intent("document how the fix for retries works") == "update_docs"
    assert classify_intent("tests fail after the docs change") == "add_tests"


def test_route_picks_experts_and_explicit_overrides():
    assert route(TRACE).experts == ("error", "file")
    assert route("support proxies").experts == ("file",)
    assert route("support proxies", ["src/a.py"]).experts == ("file", "test", "doc")
    assert route(None, ["src/a.py"]).experts == ("file", "test", "doc")
    assert route("add tests", explicit=["doc", "doc", "file"]).experts == ("doc", "file")
    assert route("add tests", explicit=["doc"]).intent == "add_tests"


def test_fix_and_feature_ask_the_file_expert_and_with_changed_files_tests_and_docs():
    assert route("fix crash on empty header").experts == ("file",)
    assert route("fix crash on empty header", ["src/h.py"]).experts == ("file", "test", "doc")
