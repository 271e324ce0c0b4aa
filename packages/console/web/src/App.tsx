import { AppShell, Burger, Group, NavLink, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { NavLink as RouterLink, Route, Routes, useLocation } from 'react-router';
import { ClustersPage } from './clusters/index.js';
import { FunctionsPage } from './pages/functions.js';

/** The console's pages, in the order of the navigation. */
const NAV = [
  { to: '/functions', label: 'Functions' },
  { to: '/triggers', label: 'Triggers' },
  { to: '/builds', label: 'Builds' },
  { to: '/logs', label: 'Logs' },
  { to: '/addresses', label: 'Addresses' },
  { to: '/clusters', label: 'Clusters' },
] as const;

export function App() {
  const [opened, { toggle, close }] = useDisclosure();
  const { pathname } = useLocation();
  return (
    <AppShell
      header={{ height: 52 }}
      navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md">
          <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Navigation" />
          <Title order={4}>Sprout</Title>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Pages">
        {NAV.map((n) => (
          <NavLink
            key={n.to}
            component={RouterLink}
            to={n.to}
            label={n.label}
            active={pathname.startsWith(n.to)}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Routes>
          <Route path="/clusters/*" element={<ClustersPage />} />
          <Route path="*" element={<FunctionsPage />} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
