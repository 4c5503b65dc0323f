"""Tests of Task."""
