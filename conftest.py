pytest_plugins = ["treffpunkt_shared.testing"]
