import { Alert } from '@grafana/ui';

/** Shown in place of a Linux-only panel when the OS variable selects no Linux node. */
export function LinuxOnlyNote({ title, origin }: { title: string; origin: string }) {
  return (
    <Alert title={`${title}: Linux nodes only`} severity="info" data-testid="kappie-linux-only-note">
      The selected nodes run Windows, where Kappie does not collect this: on Linux it comes from {origin}. Select Linux
      nodes in the OS variable to see it.
    </Alert>
  );
}
