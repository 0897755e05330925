// Sign in as the guest (may back up) or as the viewer (may only read backups): both are proxy providers of the backend
// (auth.providers.guest and the example's viewer module), so ProxiedSignInPage signs in without a form of its own.
import { Content, ContentHeader, InfoCard, Page, ProxiedSignInPage } from '@backstage/core-components';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint, type SignInPageProps } from '@backstage/plugin-app-react';
import { Button, Grid, Typography } from '@material-ui/core';
import { useState } from 'react';

const USERS = [
  { provider: 'guest', title: 'Guest', what: 'may read and start backups' },
  { provider: 'viewer', title: 'Viewer', what: 'may read backups, not start them' },
];

// The choice is kept, so a reload signs in again as the same user (as a proxy provider does).
const KEY = 'pgbackup-example:sign-in-provider';

function SignIn(props: SignInPageProps) {
  const [provider, setProvider] = useState(() => localStorage.getItem(KEY) ?? undefined);
  const choose = (p: string) => {
    localStorage.setItem(KEY, p);
    setProvider(p);
  };
  if (provider) return <ProxiedSignInPage {...props} provider={provider} />;
  return (
    <Page themeId="home">
      <Content>
        <ContentHeader title="Sign in to the pgbackup example" />
        <Grid container spacing={3}>
          {USERS.map((u) => (
            <Grid item key={u.provider} xs={12} md={4}>
              <InfoCard
                title={u.title}
                actions={
                  <Button variant="outlined" color="primary" onClick={() => choose(u.provider)}>
                    Sign in as {u.title}
                  </Button>
                }
              >
                <Typography variant="body1">
                  The {u.title.toLowerCase()} {u.what}.
                </Typography>
              </InfoCard>
            </Grid>
          ))}
        </Grid>
      </Content>
    </Page>
  );
}

export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [SignInPageBlueprint.make({ params: { loader: async () => SignIn } })],
});
