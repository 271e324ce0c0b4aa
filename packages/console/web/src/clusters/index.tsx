import { Route, Routes } from 'react-router';
import { ClusterDetail } from './ClusterDetail.js';
import { ClusterList } from './ClusterList.js';
import { ImportCluster } from './ImportCluster.js';
import { RunLog } from './RunLog.js';
import { Wizard } from './Wizard.js';

/** The KubeKey installer: saved clusters, the create wizard, import, pre-flight, kk runs. */
export const ClustersPage = () => (
  <Routes>
    <Route index element={<ClusterList />} />
    <Route path="new" element={<Wizard />} />
    <Route path="import" element={<ImportCluster />} />
    <Route path=":name" element={<ClusterDetail />} />
    <Route path=":name/edit" element={<Wizard />} />
    <Route path=":name/runs/:id" element={<RunLog />} />
  </Routes>
);
