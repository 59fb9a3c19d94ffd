"""Survey pages for members: see surveys/views.py."""

app_name = "surveys"

urlpatterns: list = []
