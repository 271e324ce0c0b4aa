import { Alert } from '@mantine/core';
import { PageTitle } from '../components/common.js';

export function BuildsPage() {
  return (
    <>
      <PageTitle>Builds</PageTitle>
      <Alert color="blue" title="Not available yet">
        The platform has no builder API yet: starting builds, following their phases and logs, and listing
        images will appear here once it does. Until then, build with your own tools and point function.yaml at
        the image.
      </Alert>
    </>
  );
}
