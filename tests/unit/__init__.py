"""Tests that need no cluster and no Airflow metadata DB: the rules, pure helpers."""
