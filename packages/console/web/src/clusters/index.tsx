export const ClustersPage = () => <p>Clusters: the KubeKey installer comes here.</p>;
