import type { Metadata } from "next";
import { signUpWithPassword } from "../actions";
import { AuthForm } from "../AuthForm";

export const metadata: Metadata = { title: "Create an account · Spotter" };

export default function SignUpPage() {
  return (
    <>
      <h1>Create an account</h1>
      <AuthForm mode="sign-up" action={signUpWithPassword} />
    </>
  );
}
