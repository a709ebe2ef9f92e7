@echo off
rem Starts the collector with the Node.js shipped next to this script (HostProcess containers run on the host, so
rem paths are relative to the image's files under %CONTAINER_SANDBOX_MOUNT_POINT%, which is where %~dp0 points).
"%~dp0node.exe" "%~dp0app\collector\dist\cli.js" %*
