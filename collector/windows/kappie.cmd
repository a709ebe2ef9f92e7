@echo off
rem Starts the collector with the Node.js shipped next to this script (HostProcess containers run on the host, so
rem paths are relative to the image's files under %CONTAINER_SANDBOX_MOUNT_POINT%, which is where %~dp0 points).
rem The Node.js flags are the ones in the shebang of collector/src/cli.ts (a test keeps them equal).
"%~dp0node.exe" --max-semi-space-size=1 --no-opt --optimize-for-size "%~dp0app\collector\dist\cli.js" %*
