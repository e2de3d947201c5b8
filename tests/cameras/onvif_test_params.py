"""Values shared by the camera tests and their fixtures (a uniquely named module: no package here)."""

CAMERA_USER = "admin"
CAMERA_PASSWORD = "Tianshui#Secret-4821"
PASSWORD_ENV = "WATCHWALL_TEST_CAMERA_PASSWORD"
CLOCK_OFFSET_S = 30.0
