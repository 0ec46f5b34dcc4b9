from django.urls import path

from optout import views

urlpatterns = [
    path("opt-out/", views.optout_form, name="optout-request-form"),
    path("opt-out/sent/", views.optout_sent, name="optout-request-sent"),
    path("opt-out/confirm/<str:token>/", views.optout_confirm, name="optout-request-confirm"),
    path("opt-out/r/<str:token>/", views.optout_status, name="optout-request-status"),
    path("review/requests/", views.review_queue, name="optout-review-queue"),
    path("review/requests/<int:pk>/", views.review_request, name="optout-review-request"),
]
