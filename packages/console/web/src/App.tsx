import { lazy, Suspense, useEffect, useState } from 'react';
import { AppShell, Burger, Button, Center, Group, Loader, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Navigate, NavLink as RouterLink, Route, Routes, useLocation } from 'react-router';
import { setUnauthorizedHandler } from './api/client.js';
import { loginWithLink, logout, session } from './api/routes.js';
import type { Session } from './api/types.js';
import { ClustersPage } from './clusters/index.js';
import { ErrorAlert } from './components/common.js';
import { AddressesPage } from './pages/addresses.js';
import { BuildsPage } from './builds/BuildsPage.js';
import { FunctionsPage } from './pages/functions.js';
import { LoginPage } from './pages/login.js';
import { LogsPage } from './pages/logs.js';
import { TokensPage } from './pages/tokens.js';
import { TriggersPage } from './pages/triggers.js';

// A function's page carries the charts library: loaded when first opened.
const FunctionPage = lazy(() => import('./pages/function.js').then((m) => ({ default: m.FunctionPage })));

/** The console's pages, in the order of the navigation. */
const NAV = [
  { to: '/functions', label: 'Functions' },
  { to: '/triggers', label: 'Triggers' },
  { to: '/builds', label: 'Builds' },
  { to: '/logs', label: 'Logs' },
  { to: '/addresses', label: 'Addresses' },
  { to: '/clusters', label: 'Clusters' },
  { to: '/tokens', label: 'API tokens' },
] as const;

type Auth = { state: 'checking' } | { state: 'out'; error?: Error } | { state: 'in'; who: Session };

// A one-time sign-in link (`/#login=<token>`, printed by sprout dev): its token is taken out of the
// address as the page loads and used once, however often the app asks who it is afterwards.
const linkToken = /^#login=([A-Za-z0-9_-]+)$/.exec(window.location.hash)?.[1];
if (linkToken) window.history.replaceState(null, '', window.location.pathname + window.location.search);
let linkLogin = linkToken ? loginWithLink(linkToken) : undefined;

/** Who we are: after the sign-in link (if any) was used; its failure is reported once. */
async function whoAmI(): Promise<Session> {
  const pending = linkLogin;
  if (pending) {
    try {
      await pending;
    } finally {
      linkLogin = undefined;
    }
  }
  return session();
}

export function App() {
  const [opened, { toggle, close }] = useDisclosure();
  const { pathname } = useLocation();
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });
  const check = () =>
    whoAmI().then(
      (who) => setAuth({ state: 'in', who }),
      // Not signed in is no error; a used or expired sign-in link, or anything else, is shown.
      (error: Error & { code?: string }) =>
        setAuth({ state: 'out', ...(error.code === 'SPROUT_ERR_HTTP_UNAUTHORIZED' ? {} : { error }) }),
    );
  useEffect(() => {
    setUnauthorizedHandler(() => setAuth({ state: 'out' }));
    void check();
  }, []);
  if (auth.state === 'checking') {
    return (
      <Center mih="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (auth.state === 'out') {
    return (
      <>
        {auth.error && <ErrorAlert error={auth.error} />}
        <LoginPage onSignedIn={() => void check()} />
      </>
    );
  }
  return (
    <AppShell
      header={{ height: 52 }}
      navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Navigation" />
            <Title order={4}>Sprout</Title>
          </Group>
          <Group wrap="nowrap" gap="xs">
            <Text fz="sm" c="dimmed" visibleFrom="xs">
              {auth.who.user}
            </Text>
            <Button
              size="xs"
              variant="default"
              onClick={() => logout().finally(() => setAuth({ state: 'out' }))}
            >
              Sign out
            </Button>
          </Group>
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
        <Suspense fallback={<Loader aria-label="Loading" />}>
          <Routes>
            <Route path="/" element={<Navigate to="/functions" replace />} />
            <Route path="/functions" element={<FunctionsPage />} />
            <Route path="/functions/:name" element={<FunctionPage />} />
            <Route path="/triggers" element={<TriggersPage />} />
            <Route path="/builds" element={<BuildsPage />} />
            <Route path="/logs" element={<LogsPage />} />
            <Route path="/addresses" element={<AddressesPage />} />
            <Route path="/clusters/*" element={<ClustersPage />} />
            <Route path="/tokens" element={<TokensPage />} />
            <Route path="*" element={<Text>No such page.</Text>} />
          </Routes>
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
