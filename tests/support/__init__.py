"""Helpers the test files share (tiny rosters, hand-built run directories, server
clients); a test file imports from here, never from another test file."""
