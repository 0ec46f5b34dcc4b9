from django.urls import path

from audits import views

urlpatterns = [
    path("review/licenses/", views.review_queue, name="audits-review-queue"),
    path("review/licenses/<int:decision_id>/", views.review_decision, name="audits-review-decision"),
    path("review/licenses/<int:decision_id>/directories/", views.review_directory, name="audits-review-directory"),
    path("review/scans/<int:scan_id>/", views.scan_page, name="audits-scan-detail"),
]
