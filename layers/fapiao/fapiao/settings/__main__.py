"""``python -m fapiao.settings`` prints the README's settings table."""

from fapiao.settings import markdown_table

print(markdown_table())
