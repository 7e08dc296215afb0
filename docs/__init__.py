"""The documentation pages, shipped in the wheel as ``airflow_sts_provider.pages``.

Read them with ``python -m airflow_sts_provider.docs [PAGE|SECTION]``.
"""
