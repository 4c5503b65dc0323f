"""Tests of Comment."""
